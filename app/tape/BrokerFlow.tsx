import { useEffect, useState } from 'react';
import { type BrokerFlowJson, netOf } from '../../sync-server/shared/flow.ts';
import { ApiError, api } from '../api/client.ts';
import { b3Time, quantity } from '../format.ts';
import { errorText, type PlainId, useT } from '../i18n/i18n.ts';
import { agentLabel, useAgents } from '../state/agents.ts';
import { tradeTape, useMarket } from '../state/market.ts';
import { catchUp, keptFlows, type LiveFlow, openedFlow } from './flow.ts';
import {
  ariaSort,
  DEFAULT_FLOW_SORT,
  type FlowColumn,
  type FlowSort,
  nextFlowSort,
  sortFlow,
} from './flowSort.ts';
import { paced } from './paced.ts';
import './tape.css';

/** The table follows the trades at this pace: brokers changing places 60 times a second is unreadable. */
const SHOW_EVERY_MS = 500;
/** At most one request for the session's flow this often (a tape with holes asks again). */
const ASK_EVERY_MS = 2_000;
/** After the server could not answer (not a 404), ask again this much later. */
const RETRY_MS = 10_000;

interface FlowView {
  live: LiveFlow | undefined;
  /** Why the session's flow is not shown, when the server failed otherwise than with a 404. */
  problem: string | undefined;
}

/**
 * The ticker's broker flow: the server's session flow, then every trade of the tape after it,
 * folded as it comes and shown twice a second. It goes on from the tape when the panel opens
 * again, and asks the server again whenever the tape no longer holds every trade after it.
 */
function useBrokerFlow(ticker: string): FlowView {
  const [view, setView] = useState<FlowView>(() => ({ live: keptFlows.get(ticker), problem: undefined }));
  useEffect(() => {
    let live = keptFlows.get(ticker);
    let problem: string | undefined;
    let stopped = false;
    let asking = false;
    let askedAt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const ask = async () => {
      if (asking || stopped) return;
      const wait = askedAt + ASK_EVERY_MS - Date.now();
      if (wait > 0) {
        clearTimeout(timer);
        timer = setTimeout(() => void ask(), wait);
        return;
      }
      asking = true;
      askedAt = Date.now();
      let next: LiveFlow;
      let retry = false;
      try {
        const flow = await api<BrokerFlowJson>(`/api/v1/market/flow?ticker=${encodeURIComponent(ticker)}`);
        next = { flow, source: 'session' };
        problem = undefined;
      } catch (err) {
        // 404: a server without the route: the flow since this app opened is all there is.
        if (!(err instanceof ApiError && err.status === 404)) {
          problem = errorText(err);
          retry = true;
        }
        const fallback = live?.source === 'opened' ? catchUp(live, tradeTape(ticker)) : undefined;
        next =
          fallback ??
          openedFlow(ticker, tradeTape(ticker), useMarket.getState().quotes[ticker]?.seq, Date.now());
      }
      asking = false;
      if (stopped) return;
      live = next;
      fold();
      setView({ live, problem });
      if (retry) {
        clearTimeout(timer);
        timer = setTimeout(() => void ask(), RETRY_MS);
      }
    };
    const fold = () => {
      if (!live) return void ask();
      const next = catchUp(live, tradeTape(ticker));
      if (!next) return void ask(); // the tape misses trades after the flow: the server has them
      const changed = next !== live;
      live = next;
      keptFlows.set(ticker, live);
      if (changed) show();
    };
    const show = paced(() => setView({ live, problem }), SHOW_EVERY_MS);

    fold();
    const unsubscribe = useMarket.subscribe((s, prev) => {
      if (s.tapeVersion[ticker] !== prev.tapeVersion[ticker]) fold();
    });
    return () => {
      stopped = true;
      unsubscribe();
      show.cancel();
      clearTimeout(timer);
    };
  }, [ticker]);
  return view;
}

const COLUMNS: ReadonlyArray<[FlowColumn, PlainId]> = [
  ['broker', 'flow.broker'],
  ['bought', 'flow.bought'],
  ['sold', 'flow.sold'],
  ['net', 'flow.net'],
  ['trades', 'flow.trades'],
];

const signed = (n: number) => (n > 0 ? `+${quantity(n)}` : n < 0 ? `−${quantity(-n)}` : '0');

/** Per broker, what it bought and sold of the ticker in the session ("fluxo de players"). */
export function BrokerFlow({ ticker }: { ticker: string }) {
  const { live, problem } = useBrokerFlow(ticker);
  const agents = useAgents((s) => s.byId);
  const [sort, setSort] = useState<FlowSort>(DEFAULT_FLOW_SORT);
  const t = useT();
  const label = (agent: number) => agentLabel(agents, agent);
  const rows = live ? sortFlow(live.flow.brokers, sort, label) : [];
  const bought = rows.reduce((s, r) => s + r.bought, 0);
  const sold = rows.reduce((s, r) => s + r.sold, 0);
  const since =
    live?.source === 'opened'
      ? live.from === undefined
        ? t('flow.sinceOpened')
        : t('flow.sinceOpenedFrom', { time: b3Time(live.from) })
      : t('flow.session');
  return (
    <section className="panel flow" aria-labelledby="flow-title">
      <h2 id="flow-title">
        {t('panel.flow')}{' '}
        <small>
          {ticker} · <span data-testid="flow-since">{live ? since : t('flow.loading')}</span>
        </small>
      </h2>
      {problem && <p className="problem">{t('flow.problem', { problem })}</p>}
      <div className="scroll flow-scroll">
        <table className="flow-table" aria-label={t('flow.aria', { ticker })}>
          <thead>
            <tr>
              {COLUMNS.map(([column, title]) => (
                <th
                  key={column}
                  scope="col"
                  className={column === 'broker' ? '' : 'num'}
                  aria-sort={ariaSort(sort, column)}
                >
                  <button
                    type="button"
                    className="sort"
                    onClick={() => setSort((s) => nextFlowSort(s, column))}
                  >
                    {column === 'net' && sort.column === 'net' && sort.bySize
                      ? t('flow.netBySize')
                      : t(title)}
                    <span aria-hidden="true">
                      {sort.column === column ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const net = netOf(r);
              return (
                <tr key={r.agent} data-agent={r.agent}>
                  <th scope="row" title={agents.get(r.agent)?.name}>
                    {label(r.agent)}
                  </th>
                  <td className="num">{quantity(r.bought)}</td>
                  <td className="num">{quantity(r.sold)}</td>
                  <td className={`num ${net > 0 ? 'up' : net < 0 ? 'down' : ''}`}>{signed(net)}</td>
                  <td className="num">{quantity(r.trades)}</td>
                </tr>
              );
            })}
          </tbody>
          {rows.length > 0 && (
            <tfoot>
              <tr>
                <th scope="row">{t('flow.total')}</th>
                <td className="num">{quantity(bought)}</td>
                <td className="num">{quantity(sold)}</td>
                <td className="num" />
                <td className="num" />
              </tr>
            </tfoot>
          )}
        </table>
        {live && rows.length === 0 && <p className="muted empty">{t('flow.none', { ticker })}</p>}
      </div>
    </section>
  );
}
