import { Fragment, useState } from 'react';
import { b3Time, price } from '../format.ts';
import { CacheAge } from '../screens/CacheAge.tsx';
import { useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import { useCancelAll, useCancelOrder, useFills, useOrders } from './api.ts';
import { isWorking, SENDING } from './blotter.ts';
import { OrderDetail } from './OrderDetail.tsx';

/** Orders of the trader's account, newest first, with cancel, change and each one's events; fills below. */
export function Blotter() {
  const [open, setOpen] = useState<number>();
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
        Orders <small>{working} working</small>
        <CacheAge query={orders} />
        {canTrade && working > 0 && (
          <button type="button" className="danger small" onClick={() => cancelAll.mutate()}>
            Cancel all
          </button>
        )}
      </h2>
      {orders.isError && !orders.data && <p className="problem">{orders.error.message}</p>}
      <div className="scroll">
        <table aria-label="Working and past orders">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Ticker</th>
              <th scope="col">Side</th>
              <th scope="col">Qty</th>
              <th scope="col">Price</th>
              <th scope="col">Filled</th>
              <th scope="col">State</th>
              <th scope="col" aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {list.map((o) => (
              <Fragment key={o.clientOrderId}>
                <tr data-order={o.clientOrderId} className={`state-${o.state}`}>
                  <td className="time">{b3Time(o.createdAt)}</td>
                  <th scope="row">{o.ticker}</th>
                  <td className={`side-${o.side}`}>{o.side}</td>
                  <td className="num">{o.qty}</td>
                  <td className="num">{o.type === 'market' ? 'mkt' : price(o.price, digits(o.ticker))}</td>
                  <td className="num">
                    {o.filledQty}
                    {o.avgFillPrice !== null && ` @ ${price(o.avgFillPrice, digits(o.ticker))}`}
                  </td>
                  <td title={o.rejectReason ?? undefined}>
                    {o.state === SENDING ? 'sending…' : o.state.replace('_', ' ')}
                    {o.rejectReason && <small className="problem"> {o.rejectReason}</small>}
                  </td>
                  <td>
                    {o.id > 0 && (
                      <button
                        type="button"
                        className="small"
                        aria-expanded={open === o.id}
                        aria-label={`Details of ${o.side} ${o.qty} ${o.ticker}`}
                        onClick={() => setOpen(open === o.id ? undefined : o.id)}
                      >
                        {open === o.id ? 'Hide' : 'Details'}
                      </button>
                    )}
                    {canTrade && isWorking(o) && (
                      <button
                        type="button"
                        className="small"
                        aria-label={`Cancel ${o.side} ${o.qty} ${o.ticker}`}
                        onClick={() => cancel.mutate(o.id)}
                      >
                        Cancel
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
        {list.length === 0 && <p className="muted">No orders yet.</p>}
      </div>
      <h3>Fills</h3>
      <div className="scroll short">
        <table aria-label="Fills">
          <tbody>
            {(fills.data ?? []).map((f) => (
              <tr key={f.id}>
                <td className="time">{b3Time(f.at)}</td>
                <th scope="row">{f.ticker}</th>
                <td className={`side-${f.side}`}>{f.side}</td>
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
