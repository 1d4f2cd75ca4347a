import { Fragment, useEffect, useState } from 'react';
import { b3Time, price } from '../format.ts';
import { errorText, say, useT } from '../i18n/i18n.ts';
import { CacheAge } from '../screens/CacheAge.tsx';
import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import { useUi } from '../state/ui.ts';
import { useCancelAll, useCancelOrder, useFills, useOrders } from './api.ts';
import { isWorking, SENDING } from './blotter.ts';
import { OrderDetail } from './OrderDetail.tsx';
import { orderWhat, rejectText, sideText, stateText } from './words.ts';

/** Orders of the trader's account, newest first, with cancel, change and each one's events; fills below. */
export function Blotter() {
  const [open, setOpen] = useState<number>();
  // A notification's link to an order opens its details here.
  const linked = useUi((s) => s.openOrder);
  useEffect(() => {
    if (linked !== undefined) setOpen(linked);
  }, [linked]);
  const t = useT();
  const orders = useOrders();
  const fills = useFills();
  const cancel = useCancelOrder();
  const cancelAll = useCancelAll();
  const instruments = useMarket((s) => s.instruments);
  const canTrade = useSession((s) => s.user?.role !== 'viewer');
  const list = orders.data?.orders ?? [];
  const working = list.filter(isWorking).length;
  const digits = (t: string) => instruments[t]?.priceDecimals ?? 2;
  return (
    <section className="panel blotter" aria-labelledby="blotter-title">
      <h2 id="blotter-title">
        {t('blotter.title')} <small>{t('blotter.working', { count: working })}</small>
        <CacheAge query={orders} />
        {canTrade && working > 0 && (
          <button type="button" className="danger small" onClick={() => cancelAll.mutate()}>
            {t('blotter.cancelAll')}
          </button>
        )}
      </h2>
      {orders.isError && !orders.data && <p className="problem">{errorText(orders.error)}</p>}
      <div className="scroll">
        <table aria-label={t('blotter.table')}>
          <thead>
            <tr>
              <th scope="col">{t('blotter.time')}</th>
              <th scope="col">{t('blotter.ticker')}</th>
              <th scope="col">{t('blotter.side')}</th>
              <th scope="col">{t('blotter.qty')}</th>
              <th scope="col">{t('blotter.price')}</th>
              <th scope="col">{t('blotter.filled')}</th>
              <th scope="col">{t('blotter.state')}</th>
              <th scope="col" aria-label={t('blotter.actions')} />
            </tr>
          </thead>
          <tbody>
            {list.map((o) => (
              <Fragment key={o.clientOrderId}>
                <tr data-order={o.clientOrderId} className={`state-${o.state}`}>
                  <td className="time b-time">{b3Time(o.createdAt)}</td>
                  <th scope="row" className="b-ticker">
                    {o.ticker}
                    {o.external && (
                      <small className="b-external" title={t('blotter.externalHint')} data-testid="external">
                        {' '}
                        {t('blotter.external')}
                      </small>
                    )}
                  </th>
                  <td className={`b-side side-${o.side}`}>{say(sideText(o.side))}</td>
                  <td className="num b-qty">{o.qty}</td>
                  <td className="num b-price">
                    {o.type === 'market' ? t('blotter.market') : price(o.price, digits(o.ticker))}
                    {o.stopPrice !== null && (
                      <small
                        className={`b-stop ${o.triggeredAt === null ? 'waiting' : 'triggered'}`}
                        data-testid="stop"
                      >
                        {' '}
                        {t('blotter.stop', { price: price(o.stopPrice, digits(o.ticker)) })} ·{' '}
                        {o.triggeredAt === null ? t('blotter.stopWaiting') : t('blotter.stopTriggered')}
                      </small>
                    )}
                  </td>
                  <td className="num b-filled" data-label={t('blotter.filled')}>
                    {o.filledQty}
                    {o.avgFillPrice !== null && ` @ ${price(o.avgFillPrice, digits(o.ticker))}`}
                  </td>
                  <td
                    className="b-state"
                    title={o.rejectReason ? say(rejectText(o.rejectReason)) : undefined}
                  >
                    {o.state === SENDING ? t('order.sending') : say(stateText(o.state))}
                    {o.rejectReason && <small className="problem"> {say(rejectText(o.rejectReason))}</small>}
                  </td>
                  <td className="b-act">
                    {o.id > 0 && (
                      <button
                        type="button"
                        className="small"
                        aria-expanded={open === o.id}
                        aria-label={t('blotter.detailsOf', { what: orderWhat(o) })}
                        onClick={() => setOpen(open === o.id ? undefined : o.id)}
                      >
                        {open === o.id ? t('blotter.hide') : t('blotter.details')}
                      </button>
                    )}
                    {canTrade && isWorking(o) && (
                      <button
                        type="button"
                        className="small"
                        aria-label={t('blotter.cancelOf', { what: orderWhat(o) })}
                        onClick={() => cancel.mutate(o.id)}
                      >
                        {t('blotter.cancel')}
                      </button>
                    )}
                  </td>
                </tr>
                {open === o.id && (
                  <tr className="detail">
                    <td colSpan={8}>
                      <OrderDetail order={o} canTrade={canTrade} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
        {list.length === 0 && <p className="muted">{t('blotter.none')}</p>}
      </div>
      <h3>{t('blotter.fills')}</h3>
      <div className="scroll short">
        <table aria-label={t('blotter.fills')}>
          <thead>
            <tr>
              <th scope="col">{t('blotter.time')}</th>
              <th scope="col">{t('blotter.ticker')}</th>
              <th scope="col">{t('blotter.side')}</th>
              <th scope="col" className="num">
                {t('blotter.qty')}
              </th>
              <th scope="col" className="num">
                {t('blotter.price')}
              </th>
            </tr>
          </thead>
          <tbody>
            {(fills.data ?? []).map((f) => (
              <tr key={f.id}>
                <td className="time">{b3Time(f.at)}</td>
                <th scope="row">{f.ticker}</th>
                <td className={`side-${f.side}`}>{say(sideText(f.side))}</td>
                <td className="num">{f.qty}</td>
                <td className="num">{price(f.price, digits(f.ticker))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
