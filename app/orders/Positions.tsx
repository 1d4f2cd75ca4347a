import { unrealizedCents } from '../../sync-server/shared/orders.ts';
import { price, reais } from '../format.ts';
import { useT } from '../i18n/i18n.ts';
import { CacheAge } from '../screens/CacheAge.tsx';
import { useMarket } from '../state/market.ts';
import { usePositions } from './api.ts';

const tone = (cents: number | null) => (cents === null || cents === 0 ? '' : cents > 0 ? 'up' : 'down');

/** Positions and P&L (integer centavos from the server, marked to the last trade). */
export function Positions() {
  const q = usePositions();
  const t = useT();
  const instruments = useMarket((s) => s.instruments);
  const quotes = useMarket((s) => s.quotes);
  // Marked to the live last trade when there is one: the server's mark is from its last push.
  const rows = (q.data?.positions ?? [])
    .filter((p) => p.qty !== 0 || p.realizedCents !== 0)
    .map((p) => {
      const last = quotes[p.ticker]?.last;
      const inst = instruments[p.ticker];
      return last === undefined || !inst
        ? p
        : { ...p, lastPrice: last, unrealizedCents: unrealizedCents(p, last, inst) };
    });
  const unrealized = rows.reduce((s, p) => s + (p.unrealizedCents ?? 0), 0);
  return (
    <section className="panel positions" aria-labelledby="positions-title">
      <h2 id="positions-title">
        {t('positions.title')}
        <CacheAge query={q} />
      </h2>
      <p className="pnl">
        <span>
          {t('positions.realized')}{' '}
          <b className={tone(q.data?.realizedTodayCents ?? 0)}>{reais(q.data?.realizedTodayCents ?? 0)}</b>
        </span>
        <span>
          {t('positions.openPnl')}{' '}
          <b className={tone(unrealized)} data-testid="open-pnl">
            {reais(unrealized)}
          </b>
        </span>
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('positions.ticker')}</th>
            <th scope="col">{t('positions.qty')}</th>
            <th scope="col">{t('positions.avg')}</th>
            <th scope="col">{t('positions.last')}</th>
            <th scope="col">{t('positions.openPnl')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.ticker} data-position={p.ticker}>
              <th scope="row">{p.ticker}</th>
              <td className="num" data-testid={`position-${p.ticker}`}>
                {p.qty}
              </td>
              <td className="num">{price(p.averagePrice, instruments[p.ticker]?.priceDecimals)}</td>
              <td className="num">{price(p.lastPrice, instruments[p.ticker]?.priceDecimals)}</td>
              <td className={`num ${tone(p.unrealizedCents)}`}>
                {p.unrealizedCents === null ? '—' : reais(p.unrealizedCents)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p className="muted">{t('positions.flat')}</p>}
    </section>
  );
}
