import { netPnl, unrealizedCents } from '../../sync-server/shared/orders.ts';
import { price, reais } from '../format.ts';
import { useT } from '../i18n/i18n.ts';
import { CacheAge } from '../screens/CacheAge.tsx';
import { KeyList } from '../screens/KeyList.tsx';
import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import { useSettings } from '../state/settings.ts';
import { usePositions } from './api.ts';
import { askBracket } from './BracketDialog.tsx';
import { BracketList } from './BracketList.tsx';
import { askFlatten } from './FlattenDialog.tsx';
import { HOTKEY_ACTIONS, HOTKEY_WORDS } from './hotkeys.ts';

const tone = (cents: number | null) => (cents === null || cents === 0 ? '' : cents > 0 ? 'up' : 'down');

/**
 * Positions and P&L (integer centavos from the server, marked to the last trade): per ticker the
 * gross (realized + open), the costs its fills were charged and the net; above, today's.
 */
export function Positions() {
  const q = usePositions();
  const t = useT();
  const instruments = useMarket((s) => s.instruments);
  const quotes = useMarket((s) => s.quotes);
  const role = useSession((s) => s.user?.role);
  const hotkeys = useSettings((s) => s.hotkeys);
  const canTrade = role === 'admin' || role === 'trader';
  // Marked to the live last trade when there is one: the server's mark is from its last push.
  const rows = (q.data?.positions ?? [])
    .filter((p) => p.qty !== 0 || p.realizedCents !== 0 || p.costsCents !== 0)
    .map((p) => {
      const last = quotes[p.ticker]?.last;
      const inst = instruments[p.ticker];
      const marked =
        last === undefined || !inst
          ? p
          : { ...p, lastPrice: last, unrealizedCents: unrealizedCents(p, last, inst) };
      return { ...marked, netCents: netPnl(marked, marked.unrealizedCents) };
    });
  const unrealized = rows.reduce((s, p) => s + (p.unrealizedCents ?? 0), 0);
  const realizedToday = q.data?.realizedTodayCents ?? 0;
  const costsToday = q.data?.costsTodayCents ?? 0;
  const netToday = netPnl({ realizedCents: realizedToday, costsCents: costsToday }, unrealized);
  return (
    <section className="panel positions" aria-labelledby="positions-title">
      <h2 id="positions-title">
        {t('positions.title')}
        <CacheAge query={q} />
        {canTrade && rows.some((p) => p.qty !== 0) && (
          <button type="button" className="small danger" onClick={() => askFlatten({ reverse: false })}>
            {t('positions.flattenAll')}
          </button>
        )}
      </h2>
      <p className="pnl">
        <span>
          {t('positions.realized')}{' '}
          <b className={tone(realizedToday)} data-testid="realized-today">
            {reais(realizedToday)}
          </b>
        </span>
        <span>
          {t('positions.openPnl')}{' '}
          <b className={tone(unrealized)} data-testid="open-pnl">
            {reais(unrealized)}
          </b>
        </span>
        <span>
          {t('positions.costsToday')} <b data-testid="costs-today">{reais(costsToday)}</b>
        </span>
        <span className="net">
          {t('positions.netToday')}{' '}
          <b className={tone(netToday)} data-testid="net-today">
            {reais(netToday)}
          </b>
        </span>
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('positions.ticker')}</th>
            <th scope="col">{t('positions.qty')}</th>
            <th scope="col" className="wide">
              {t('positions.avg')}
            </th>
            <th scope="col" className="wide">
              {t('positions.last')}
            </th>
            <th scope="col" className="gross" title={t('positions.grossHint')}>
              {t('positions.gross')}
            </th>
            <th scope="col" title={t('positions.costsHint')}>
              {t('positions.costs')}
            </th>
            <th scope="col">{t('positions.net')}</th>
            {canTrade && (
              <th scope="col">
                <span className="sr-only">{t('positions.actions')}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => {
            const gross = p.realizedCents + (p.unrealizedCents ?? 0);
            return (
              <tr key={p.ticker} data-position={p.ticker}>
                <th scope="row">{p.ticker}</th>
                <td
                  className="num"
                  data-testid={`position-${p.ticker}`}
                  title={p.outside ? t('positions.outsideHint', { tape: p.tapeQty }) : undefined}
                >
                  {p.qty}
                  {p.outside && <span className="outside">*</span>}
                </td>
                <td className="num wide">{price(p.averagePrice, instruments[p.ticker]?.priceDecimals)}</td>
                <td className="num wide">{price(p.lastPrice, instruments[p.ticker]?.priceDecimals)}</td>
                <td className={`num gross ${tone(gross)}`} data-testid={`gross-${p.ticker}`}>
                  {reais(gross)}
                </td>
                <td className="num" data-testid={`costs-${p.ticker}`}>
                  {reais(p.costsCents)}
                </td>
                <td className={`num ${tone(p.netCents)}`} data-testid={`net-${p.ticker}`}>
                  {reais(p.netCents)}
                </td>
                {canTrade && (
                  <td className="actions">
                    {p.qty !== 0 && (
                      <>
                        <button
                          type="button"
                          className="small"
                          onClick={() => askFlatten({ ticker: p.ticker, reverse: false })}
                        >
                          {t('positions.flatten')}
                        </button>
                        <button
                          type="button"
                          className="small"
                          onClick={() => askFlatten({ ticker: p.ticker, reverse: true })}
                        >
                          {t('positions.reverse')}
                        </button>
                        <button
                          type="button"
                          className="small"
                          title={t('bracket.buttonHint', { ticker: p.ticker })}
                          onClick={() => askBracket({ ticker: p.ticker, qty: p.qty })}
                        >
                          {t('bracket.button')}
                        </button>
                      </>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.some((p) => p.outside) && (
        <p className="note" role="note" data-testid="outside-note">
          {t('positions.outsideNote')}
        </p>
      )}
      {rows.length === 0 && <p className="muted">{t('positions.flat')}</p>}
      <BracketList canTrade={canTrade} />
      {canTrade && (
        <KeyList
          title={t('positions.keys')}
          keys={HOTKEY_ACTIONS.map((a) => [hotkeys[a], HOTKEY_WORDS[a]] as const)}
        />
      )}
    </section>
  );
}
