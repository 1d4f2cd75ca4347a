import type { ReactNode } from 'react';
import type { HealthJson, HealthSeries, LinkState } from '../../sync-server/shared/admin.ts';
import { useHealth } from '../api/admin.ts';
import { b3DateTime } from '../format.ts';
import { useUi } from '../state/ui.ts';
import { type Point, sparkline } from './sparkline.ts';

const W = 180;
const H = 28;

/** A series of the last 15 minutes as a line, the latest point marked. */
function Sparkline({ points, label }: { points: readonly Point[]; label: string }) {
  const s = sparkline(points, W, H);
  return (
    <svg
      className="spark"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`${label}, last 15 minutes: ${s.min.toLocaleString('pt-BR')} to ${s.max.toLocaleString('pt-BR')}`}
    >
      <path d={s.d} />
      {s.last && <circle cx={s.last.x} cy={s.last.y} r={2} />}
    </svg>
  );
}

const LINKS: ReadonlyArray<[keyof HealthJson['links'], string]> = [
  ['login', 'Login'],
  ['marketData', 'Market data'],
  ['routing', 'Routing'],
  ['activation', 'Activation'],
];

// The server's labels of the DLL's states (health.ts): up, on its way, or anything else (down).
const UP = new Set(['connected', 'broker connected', 'valid']);
const COMING = new Set(['connecting', 'broker connecting', 'waiting', 'not reported']);

function Link({ name, state }: { name: string; state: LinkState }) {
  const tone = UP.has(state.label) ? 'ok' : COMING.has(state.label) ? 'warn' : 'bad';
  return (
    <li>
      <span>{name}</span>
      <span className={`badge ${tone}`}>{state.label}</span>
      <small className="muted">{state.since ? `since ${b3DateTime(state.since)}` : 'not reported yet'}</small>
    </li>
  );
}

function Tile({
  title,
  series,
  health,
  children,
}: {
  title: string;
  series: HealthSeries;
  health: HealthJson;
  children: ReactNode;
}) {
  return (
    <div className="tile" data-testid={`health-${series}`}>
      <h3>{title}</h3>
      <div className="figure">{children}</div>
      <Sparkline points={health.series[series]} label={title} />
    </div>
  );
}

const n = (v: number) => v.toLocaleString('pt-BR', { maximumFractionDigits: 1 });

/** Admins: the DLL's links and the pipeline's figures, now and over the last 15 minutes. */
export function HealthScreen() {
  const q = useHealth();
  const h = q.data;
  if (!h) return <p className="muted">{q.isError ? q.error.message : 'Loading…'}</p>;
  const tps = Object.entries(h.tradesPerSecond);
  const total = tps.reduce((sum, [, v]) => sum + v, 0);
  return (
    <section className="panel admin-health" aria-labelledby="health-title">
      <h2 id="health-title">
        Health <small className="muted">as of {b3DateTime(h.at)}, every 10 s</small>
      </h2>
      {q.isError && <p className="problem">Not updated: {q.error.message}</p>}
      <ul className="links" aria-label="DLL links">
        {LINKS.map(([k, label]) => (
          <Link key={k} name={label} state={h.links[k]} />
        ))}
        <li>
          <span>Database</span>
          <span className={`badge ${h.database ? 'ok' : 'bad'}`}>{h.database ? 'up' : 'down'}</span>
        </li>
        <li>
          <span>Redis</span>
          {h.redis === null ? (
            <span className="muted">not configured</span>
          ) : (
            <span className={`badge ${h.redis ? 'ok' : 'bad'}`}>{h.redis ? 'up' : 'down'}</span>
          )}
        </li>
      </ul>
      <div className="tiles">
        <Tile title="Trades per second" series="tradesPerSecond" health={h}>
          <b>{n(total)}</b>
          <small className="muted">{tps.map(([t, v]) => `${t} ${n(v)}`).join(' · ')}</small>
        </Tile>
        <Tile title="Capture ring" series="ringUsed" health={h}>
          <b>
            {n(h.ring.used)} / {n(h.ring.capacity)}
          </b>
          <small className={h.ring.dropped ? 'problem' : 'muted'}>{n(h.ring.dropped)} dropped</small>
        </Tile>
        <Tile title="Tick writer" series="writerBacklog" health={h}>
          <b>{n(h.writer.bufferedRows)} rows waiting</b>
          <small className={h.writer.databaseUp ? 'muted' : 'problem'}>
            database {h.writer.databaseUp ? 'taking writes' : 'not answering'}
          </small>
        </Tile>
        <Tile title="Clients" series="clients" health={h}>
          <b>{n(h.clients.market)} market</b>
          <small className="muted">{n(h.clients.yjs)} on shared documents</small>
        </Tile>
        <Tile title="Dead letters" series="deadLetters" health={h}>
          <b>{n(h.deadLettersOpen)} open</b>
          <button
            type="button"
            className="small link"
            onClick={() => useUi.getState().setAdminSection('deadLetters')}
          >
            Show them
          </button>
        </Tile>
      </div>
    </section>
  );
}
