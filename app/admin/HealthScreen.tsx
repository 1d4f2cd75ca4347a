import type { ReactNode } from 'react';
import type { HealthJson, HealthSeries, LinkState } from '../../sync-server/shared/admin.ts';
import { useHealth } from '../api/admin.ts';
import { b3DateTime } from '../format.ts';
import { errorText, isMessageId, type PlainId, useT } from '../i18n/i18n.ts';
import { useUi } from '../state/ui.ts';
import { type Point, sparkline } from './sparkline.ts';

const W = 180;
const H = 28;

/** A series of the last 15 minutes as a line, the latest point marked. */
function Sparkline({ points, label }: { points: readonly Point[]; label: string }) {
  const s = sparkline(points, W, H);
  const t = useT();
  return (
    <svg
      className="spark"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={t('health.spark', {
        label,
        min: s.min.toLocaleString('pt-BR'),
        max: s.max.toLocaleString('pt-BR'),
      })}
    >
      <path d={s.d} />
      {s.last && <circle cx={s.last.x} cy={s.last.y} r={2} />}
    </svg>
  );
}

const LINKS: ReadonlyArray<[keyof HealthJson['links'], PlainId]> = [
  ['login', 'health.login'],
  ['marketData', 'health.marketData'],
  ['routing', 'health.routing'],
  ['activation', 'health.activation'],
];

// The server's labels of the DLL's states (health.ts): up, on its way, or anything else (down).
const UP = new Set(['connected', 'broker connected', 'valid']);
const COMING = new Set(['connecting', 'broker connecting', 'waiting', 'not reported']);

function Link({ name, state }: { name: string; state: LinkState }) {
  const tone = UP.has(state.label) ? 'ok' : COMING.has(state.label) ? 'warn' : 'bad';
  const t = useT();
  // The server's label in words of the language; a label it added since, as it wrote it.
  const id = `health.link.${state.label.replaceAll(' ', '_')}`;
  return (
    <li>
      <span>{name}</span>
      <span className={`badge ${tone}`}>{isMessageId(id) ? t(id as PlainId) : state.label}</span>
      <small className="muted">
        {state.since ? t('health.since', { time: b3DateTime(state.since) }) : t('health.notReported')}
      </small>
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
  const t = useT();
  const h = q.data;
  if (!h) return <p className="muted">{q.isError ? errorText(q.error) : t('common.loading')}</p>;
  const tps = Object.entries(h.tradesPerSecond);
  const total = tps.reduce((sum, [, v]) => sum + v, 0);
  return (
    <section className="panel admin-health" aria-labelledby="health-title">
      <h2 id="health-title">
        {t('health.title')} <small className="muted">{t('health.asOf', { time: b3DateTime(h.at) })}</small>
      </h2>
      {q.isError && <p className="problem">{t('health.notUpdated', { reason: errorText(q.error) })}</p>}
      <ul className="links" aria-label={t('health.links')}>
        {LINKS.map(([k, label]) => (
          <Link key={k} name={t(label)} state={h.links[k]} />
        ))}
        <li>
          <span>{t('health.database')}</span>
          <span className={`badge ${h.database ? 'ok' : 'bad'}`}>
            {h.database ? t('health.up') : t('health.down')}
          </span>
        </li>
        <li>
          <span>{t('health.redis')}</span>
          {h.redis === null ? (
            <span className="muted">{t('health.notConfigured')}</span>
          ) : (
            <span className={`badge ${h.redis ? 'ok' : 'bad'}`}>
              {h.redis ? t('health.up') : t('health.down')}
            </span>
          )}
        </li>
      </ul>
      <div className="tiles">
        <Tile title={t('health.tps')} series="tradesPerSecond" health={h}>
          <b>{n(total)}</b>
          <small className="muted">{tps.map(([t, v]) => `${t} ${n(v)}`).join(' · ')}</small>
        </Tile>
        <Tile title={t('health.ring')} series="ringUsed" health={h}>
          <b>
            {n(h.ring.used)} / {n(h.ring.capacity)}
          </b>
          <small className={h.ring.dropped ? 'problem' : 'muted'}>
            {t('health.dropped', { n: n(h.ring.dropped) })}
          </small>
        </Tile>
        <Tile title={t('health.writer')} series="writerBacklog" health={h}>
          <b>{t('health.rowsWaiting', { n: n(h.writer.bufferedRows) })}</b>
          <small className={h.writer.databaseUp ? 'muted' : 'problem'}>
            {h.writer.databaseUp ? t('health.dbTaking') : t('health.dbNotAnswering')}
          </small>
        </Tile>
        <Tile title={t('health.clients')} series="clients" health={h}>
          <b>{t('health.market', { n: n(h.clients.market) })}</b>
          <small className="muted">{t('health.shared', { n: n(h.clients.yjs) })}</small>
        </Tile>
        <Tile title={t('health.deadLetters')} series="deadLetters" health={h}>
          <b>{t('health.open', { n: n(h.deadLettersOpen) })}</b>
          <button
            type="button"
            className="small link"
            onClick={() => useUi.getState().setAdminSection('deadLetters')}
          >
            {t('health.showThem')}
          </button>
        </Tile>
      </div>
    </section>
  );
}
