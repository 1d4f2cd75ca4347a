import type { LatencySummary, SoakReport, SoakSample } from './model.ts';

// A soak run as the table rows and the summary it prints.

const f1 = (x: number) =>
  x === Number.POSITIVE_INFINITY ? '>60,000' : Number.isFinite(x) ? x.toFixed(1) : '–';
const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '–');

export function formatRow(s: SoakSample): string {
  return `| ${s.t} | ${f0(s.rssMb)} | ${f1(s.heapMb)} (${f0(s.heapMinMb)}–${f0(s.heapMaxMb)}) | ${f1(s.gcHeapMb)} | ${f0(s.serverCpu)} | ${f0(s.serverLagP99Ms)} / ${f0(s.serverLagMaxMs)} | ${f0(s.produced)} | ${f0(s.delivered)} | ${f0(s.frames)} | ${f1(s.marketP99)} | ${f1(s.orderP99)} | ${f1(s.yjsP99)} | ${f1(s.genLagP99Ms)} | ${f0(s.genCpu)} | ${f1(s.load)} | ${s.errors} |`;
}

const lat = (l: LatencySummary) =>
  `p50 ${f1(l.p50)} / p99 ${f1(l.p99)} / p99.9 ${f1(l.p999)} / max ${f1(l.max)} ms (${l.count.toLocaleString('en')})`;

export function formatSummary(r: SoakReport): string {
  const o = r.orders;
  const counts = (m: Readonly<Record<string, number>>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const rejected = counts(o.riskRejected);
  return [
    `summary: ${r.errorCount} errors${r.errorCount ? ` ${JSON.stringify(r.errors)}` : ''}; live heap (after a full GC) ${f1(r.heap.secondThirdMb)} → ${f1(r.heap.lastThirdMb)} MB ` +
      `(median of the 2nd / last third; growth ${f1(r.heap.growthMb)} MB, allowed ${f1(r.heap.toleranceMb)}; slope ${r.heap.slopeMbPerMin.toFixed(2)} MB/min) ` +
      `${r.heap.ok ? 'flat' : 'GROWING'}; without GC ${f1(r.heap.unforcedSecondThirdMb)} → ${f1(r.heap.unforcedLastThirdMb)} MB; RSS ${f0(r.heap.rssSecondThirdMb)} → ${f0(r.heap.rssLastThirdMb)} MB`,
    `  market: produced ${f0(r.market.producedPerSecond)}/s, delivered ${f0(r.market.deliveredPerSecond)} trades/s to ${r.options.clients} clients ` +
      `(${f0(r.market.trades)} trades in ${f0(r.market.frames)} frames, ${f0(r.market.decodedFrames)} fully decoded); latency ${lat(r.latency.market)}; ` +
      `conflated ${r.market.conflations}, replays ${r.market.replays} (${r.market.replayedTrades} trades), slow-consumer closes ${r.market.slowConsumerClosed}, ` +
      `events ${JSON.stringify(r.market.events)}, dead letters ${JSON.stringify(r.market.deadLetters)}, ring overflow ${r.market.ringOverflow}, ticks stored ${f0(r.market.ticksStored)}`,
    `  orders: ${o.sent} sent, ${o.answered} answered, ${o.ok} accepted, risk 422: ${rejected || 'none'}, shed (429/503): ${counts(o.shed) || 'none'}; ack ${lat(r.latency.orderAck)}; ` +
      `POST → filled push ${lat(r.latency.orderFill)}; final states ${JSON.stringify(o.finalStates)}, ${o.notFinal} accepted without a final state`,
    `  yjs: ${f0(r.yjs.edits)} edits, ${f0(r.yjs.deliveries)} deliveries; propagation ${lat(r.latency.yjs)}; ${r.yjs.converged}/${r.yjs.rooms} rooms converged; reconnects ${r.yjs.reconnects}${r.yjs.closes.length ? ` (${r.yjs.closes.join(', ')})` : ''}`,
    `  generator event-loop lag p99 per window: median ${f1(r.latency.genLag.p50)}, max ${f1(r.latency.genLag.max)} ms; ` +
      `server ${r.backend}, ${r.bus} bus, setup ${r.setupSeconds.toFixed(1)} s, exit ${r.server.exit}, ${r.server.warnings.length} warnings logged`,
    ...(r.errorExamples.length ? [`  first errors: ${r.errorExamples.slice(0, 10).join(' | ')}`] : []),
    ...(r.server.warnings.length ? [`  first warnings: ${r.server.warnings.slice(0, 5).join(' | ')}`] : []),
  ].join('\n');
}
