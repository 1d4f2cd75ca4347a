import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { ServerMessage } from '../sync-server/shared/market.ts';
import { sampleSum, sampleValues, scrape } from '../sync-server/testing/metrics.ts';
import { login, type ServerProcess, scratchPostgres, spawnServer } from '../sync-server/testing/server.ts';
import { until } from '../sync-server/testing/until.ts';
import { Editor, MarketClient, type MarketTotals, stateOf } from './soak/clients.ts';
import { formatRow } from './soak/format.ts';
import type { SoakOptions, SoakReport, SoakSample } from './soak/model.ts';
import {
  apiOf,
  Errors,
  expectStatus,
  Histogram,
  Inspector,
  Latency,
  MB,
  median,
  nowMs,
  PROBE_MS,
  sleep,
  slope,
} from './soak/tools.ts';

const DEFAULT_TICKERS = 'PETR4:B,VALE3:B,ITUB4:B,BBDC4:B,WINZ25:F,WDOZ25:F';
const EQUITIES = ['PETR4', 'VALE3', 'ITUB4', 'BBDC4'];
const ORDER_TIMEOUT_MS = 10_000;
const LIMITS = {
  maxOrderQty: 10_000,
  maxOrderNotionalCents: 1_000_000_000,
  maxPositionQty: 1_000_000,
  maxOpenOrders: 1_000,
  dailyLossLimitCents: 1_000_000_000_000,
  priceBandPct: 10,
  ordersPerSecond: 200,
  orderBurst: 1_000,
};

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const errors = new Errors();
  const setupStart = Date.now();
  const db = process.env.DATABASE_URL
    ? await scratchPostgres('tape_soak')
    : { url: undefined, drop: async () => {} };
  const dataDir = mkdtempSync(join(tmpdir(), 'tape-soak-'));
  const docsDir = join(dataDir, 'no-docs');
  mkdirSync(docsDir);
  const tickerSpec = opts.serverEnv?.TAPE_TICKERS ?? DEFAULT_TICKERS;
  const tickerCount = tickerSpec.split(',').length;
  let server: ServerProcess | undefined;
  const cleanups: (() => void)[] = [];
  // Each stock WebsocketProvider adds a process 'exit' listener.
  const maxListeners = process.getMaxListeners();
  process.setMaxListeners(Math.max(maxListeners, opts.editors + opts.rooms + 20));
  cleanups.push(() => process.setMaxListeners(maxListeners));
  try {
    server = await spawnServer(
      {
        TAPE_DATA_DIR: dataDir,
        // No assistant corpus: an ingest of ./docs at boot is load this soak does not measure.
        TAPE_RAG_DOCS_DIRS: docsDir,
        TAPE_SIM_RATE: String(opts.rate / tickerCount),
        // Sockets live as long as their token: outlast the run rather than renew.
        TAPE_ACCESS_TOKEN_TTL_S: '86400',
        ...(db.url ? { DATABASE_URL: db.url } : {}),
        // Loopback, random port: the soak forces a full GC through it before each memory reading.
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--inspect=127.0.0.1:0'].filter(Boolean).join(' '),
        ...opts.serverEnv,
      },
      60_000,
    );
    const srv = server;
    const inspector = await Inspector.open(srv.output);
    cleanups.push(() => inspector.close());
    const api = apiOf(srv.url);
    const admin = await login(srv.url);
    await until(
      async () => (await api('GET', '/readyz')).status === 200,
      'server ready (orders reconciled)',
      30_000,
    );

    // ---- users: a viewer for the market sockets, traders with accounts, editors
    const password = 'soak-password-1';
    const newUser = async (username: string, role: string) => {
      const body = await expectStatus(
        api('POST', '/api/v1/users', { username, password, role }, admin),
        201,
        `create ${username}`,
      );
      return (body.user as { userId: number }).userId;
    };
    await newUser('soak-watcher', 'viewer');
    const watcher = await login(srv.url, 'soak-watcher', password);
    const traders: { name: string; token: string; ws?: WebSocket }[] = [];
    for (let i = 0; i < opts.traders; i++) {
      const name = `soak-trader-${i}`;
      const account = `SOAK-${i}`;
      await expectStatus(
        api('POST', '/api/v1/accounts', { id: account, brokerId: 1982, name: account }, admin),
        201,
        `account ${account}`,
      );
      const id = await newUser(name, 'trader');
      await expectStatus(
        api('PUT', `/api/v1/users/${id}/account`, { accountId: account }, admin),
        200,
        'assign account',
      );
      await expectStatus(api('PUT', `/api/v1/risk/config/${account}`, LIMITS, admin), 200, 'risk config');
      traders.push({ name, token: await login(srv.url, name, password) });
    }
    const editorUsers = Math.max(1, Math.min(10, Math.ceil(opts.editors / Math.max(1, opts.rooms))));
    const editorTokens: string[] = [];
    for (let i = 0; i < editorUsers; i++) {
      await newUser(`soak-editor-${i}`, 'trader');
      editorTokens.push(await login(srv.url, `soak-editor-${i}`, password));
    }
    const rooms: string[] = [];
    for (let r = 0; r < opts.rooms; r++) {
      const owner = r % editorUsers;
      const body = await expectStatus(
        api('POST', '/api/v1/watchlists', { name: `Soak ${r}` }, editorTokens[owner]),
        201,
        'create watchlist',
      );
      const wl = body.watchlist as { id: number; room: string };
      for (let u = 0; u < editorUsers; u++)
        if (u !== owner)
          await expectStatus(
            api(
              'PUT',
              `/api/v1/watchlists/${wl.id}/members/soak-editor-${u}`,
              { role: 'editor' },
              editorTokens[owner],
            ),
            200,
            'share watchlist',
          );
      rooms.push(wl.room);
    }

    // ---- market clients
    const tickers = await new Promise<string[]>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws?token=${watcher}`);
      ws.once('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as Extract<ServerMessage, { type: 'hello' }>;
        ws.close();
        resolve(m.tickers);
      });
      ws.once('error', reject);
    });
    const marketLatency = new Latency();
    const totals: MarketTotals = {
      trades: 0,
      frames: 0,
      decoded: 0,
      conflations: 0,
      replays: 0,
      replayedTrades: 0,
    };
    const clients: MarketClient[] = [];
    cleanups.push(() => {
      for (const c of clients) {
        c.stopping = true;
        c.ws.terminate();
      }
    });
    const wsUrl = `ws://127.0.0.1:${srv.port}/ws?token=${watcher}`;
    for (let i = 0; i < opts.clients; i += 50) {
      const batch: MarketClient[] = [];
      for (let j = i; j < Math.min(opts.clients, i + 50); j++) {
        const mine = Array.from(
          { length: Math.min(opts.tickersPerClient, tickers.length) },
          (_, k) => tickers[(j + k) % tickers.length] as string,
        );
        batch.push(new MarketClient(wsUrl, mine, j % opts.decodeEvery === 0, totals, marketLatency, errors));
      }
      clients.push(...batch);
      await until(() => batch.every((c) => c.subscribed), 'market clients subscribed', 30_000).catch(
        (err) => {
          throw new Error(
            `${(err as Error).message}: ${batch.filter((c) => !c.subscribed).length} of ${batch.length} not subscribed; ${errors.examples.join(' | ')}`,
          );
        },
      );
    }

    // ---- traders' sockets: order pushes (fill latency, final states)
    const orderAck = new Latency();
    const orderFill = new Latency();
    const sentAt = new Map<number, number>();
    const pushedFinal = new Map<number, { state: string; at: number }>();
    const finalStates = new Map<string, number>();
    const FINAL = new Set(['filled', 'rejected', 'cancelled', 'expired', 'not_sent']);
    cleanups.push(() => {
      for (const tr of traders) tr.ws?.terminate();
    });
    for (const tr of traders) {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws?token=${tr.token}`, {
        perMessageDeflate: false,
      });
      tr.ws = ws;
      ws.on('message', (d: Buffer, binary: boolean) => {
        if (binary) return;
        const m = JSON.parse(d.toString()) as ServerMessage;
        if (m.type !== 'order' || !FINAL.has(m.order.state) || pushedFinal.has(m.order.id)) return;
        const at = nowMs();
        pushedFinal.set(m.order.id, { state: m.order.state, at });
        finalStates.set(m.order.state, (finalStates.get(m.order.state) ?? 0) + 1);
        const t0 = sentAt.get(m.order.id);
        if (t0 !== undefined && m.order.state === 'filled') orderFill.add(at - t0);
      });
      ws.on('error', (err) => errors.add('orders: socket error', err.message));
      await new Promise((r, j) => ws.once('open', r).once('error', j));
    }
    await sleep(300); // the account topic is joined after a lookup

    // ---- editors
    const yjsLatency = new Latency();
    const deliveries = { n: 0 };
    const editors: Editor[] = [];
    const perRoom = Math.ceil(opts.editors / Math.max(1, opts.rooms));
    for (let i = 0; i < opts.editors; i++) {
      const room = i % opts.rooms;
      const slot = Math.floor(i / opts.rooms);
      editors.push(
        new Editor(
          srv.port,
          editorTokens[slot % editorUsers] as string,
          rooms[room] as string,
          `e${i}`,
          EQUITIES[i % EQUITIES.length] as string,
          yjsLatency,
          deliveries,
          errors,
        ),
      );
    }
    cleanups.push(() => {
      for (const e of editors) {
        e.stopping = true;
        e.provider.destroy();
      }
    });
    await until(() => editors.every((e) => e.synced), 'editors synced', 60_000);
    const setupSeconds = (Date.now() - setupStart) / 1000;
    log(
      `soak: ${opts.clients} market clients (${opts.tickersPerClient} of ${tickers.length} tickers each), ${opts.rate.toLocaleString('en')} trades/s, ` +
        `${opts.ordersPerSecond} orders/s from ${opts.traders} traders, ${opts.editors} editors in ${opts.rooms} rooms ` +
        `(${perRoom} per room, ${opts.editsPerSecond} edits/s each); ${db.url ? 'PostgreSQL' : 'PGlite'}, ` +
        `${process.env.REDIS_URL ? 'Redis bus' : 'in-process bus'}; setup ${setupSeconds.toFixed(1)} s; ${opts.seconds} s of load; machine load average ${(loadavg()[0] as number).toFixed(1)} on ${availableParallelism()} cores`,
    );

    // ---- load
    const start = nowMs();
    const elapsed = () => (nowMs() - start) / 1000;
    const warmup = opts.seconds / 3;
    let stopped = false;
    // orders
    let ordersSent = 0;
    let ordersAnswered = 0;
    let ordersOk = 0;
    let inFlight = 0;
    let draining = false; // past the wait for answers: what is still in flight is counted once
    const riskRejected = new Map<string, number>();
    const shed = new Map<string, number>();
    const side = new Map<string, number>();
    const sendOrder = () => {
      const k = ordersSent++;
      const trader = traders[k % traders.length] as (typeof traders)[number];
      const ticker = EQUITIES[Math.floor(k / traders.length) % EQUITIES.length] as string;
      const key = `${trader.name}/${ticker}`;
      const n = side.get(key) ?? 0;
      side.set(key, n + 1);
      // One in 50 is over the account's maximum quantity: it must come back as a risk 422.
      const oversized = k % 50 === 49;
      const body = {
        clientOrderId: `soak-${k}`,
        ticker,
        side: n % 2 ? 'sell' : 'buy',
        type: 'market',
        qty: oversized ? LIMITS.maxOrderQty * 2 : 100,
      };
      const t0 = nowMs();
      inFlight++;
      fetch(`${srv.url}/api/v1/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${trader.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        // A trader's client gives up after this (and would resend the same clientOrderId): it
        // also keeps the generator's open requests bounded when the server falls behind.
        signal: AbortSignal.timeout(ORDER_TIMEOUT_MS),
      })
        .then(async (r) => {
          const json = (await r.json()) as { error?: string; order?: { id: number } };
          const t1 = nowMs();
          ordersAnswered++;
          if (r.status === 201 || r.status === 200) {
            ordersOk++;
            orderAck.add(t1 - t0);
            const id = json.order?.id as number;
            const pushed = pushedFinal.get(id);
            if (pushed?.state === 'filled') orderFill.add(pushed.at - t0);
            else sentAt.set(id, t0);
            if (oversized) errors.add('orders: oversized order accepted', body.clientOrderId);
          } else if (r.status === 422) {
            orderAck.add(t1 - t0);
            const reason = json.error ?? 'unknown';
            riskRejected.set(reason, (riskRejected.get(reason) ?? 0) + 1);
          } else if ((r.status === 429 || r.status === 503) && r.headers.get('retry-after')) {
            // Shed, saying when to come back: not an error, but not held either (reported).
            const reason = json.error ?? 'unknown';
            shed.set(reason, (shed.get(reason) ?? 0) + 1);
          } else errors.add(`orders: HTTP ${r.status}`, JSON.stringify(json).slice(0, 200));
        })
        .catch((err: Error) => {
          if (draining) return;
          if (err.name !== 'TimeoutError') ordersAnswered++;
          if (err.name === 'TimeoutError') errors.add('orders: no answer within 10 s', body.clientOrderId);
          else errors.add('orders: network error', err.message);
        })
        .finally(() => {
          inFlight--;
        });
    };
    const orderTimer = setInterval(() => {
      if (stopped) return;
      const due = Math.floor(elapsed() * opts.ordersPerSecond);
      while (ordersSent < due) sendOrder();
    }, 10);
    cleanups.push(() => clearInterval(orderTimer));
    // edits, each editor on its own phase
    const editTimer = setInterval(() => {
      if (stopped) return;
      const el = elapsed();
      editors.forEach((e, i) => {
        const due = Math.floor(el * opts.editsPerSecond + i / editors.length);
        while (e.edits < due) e.edit();
      });
    }, 20);
    cleanups.push(() => clearInterval(editTimer));

    // sampling: the server's memory every probe (1 s), a row of the table every sampleSeconds
    const genLag = monitorEventLoopDelay({ resolution: 1 });
    genLag.enable();
    const genLagTotal = new Histogram();
    cleanups.push(() => genLag.disable());
    const samples: SoakSample[] = [];
    const probes: { t: number; rssMb: number; heapMb: number }[] = [];
    const gcProbes: { t: number; heapMb: number }[] = [];
    const readMetrics = () => scrape(srv.url);
    let lastMetrics = await readMetrics();
    let prev = {
      at: nowMs(),
      cpu: process.cpuUsage(),
      serverCpu: sampleSum(lastMetrics, 'tape_process_cpu_seconds_total'),
      produced: sampleSum(lastMetrics, 'tape_market_events_total', 'kind="trade",outcome="accepted"'),
      trades: totals.trades,
      frames: totals.frames,
      orders: ordersSent,
      edits: 0,
      probes: 0,
    };
    let serverLagP99 = 0;
    let serverLagMax = 0;
    let lostSoFar = sampleSum(lastMetrics, 'tape_market_events_total', 'outcome="ring_overflow"');
    if (lostSoFar > 0) errors.add('market: capture ring overflow during setup', String(lostSoFar));
    marketLatency.window.reset();
    orderAck.window.reset();
    yjsLatency.window.reset();
    genLag.reset();
    log(
      '| t s | rss MB | heap MB (min–max) | after GC MB | srv CPU % | srv lag p99 / max ms | produced/s | delivered/s | frames/s | mkt p99 ms | ack p99 ms | yjs p99 ms | gen lag p99 ms | gen CPU % | load | errors |',
    );
    log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    let nextRow = opts.sampleSeconds;
    while (elapsed() < opts.seconds && !opts.signal?.aborted) {
      await sleep(Math.max(0, Math.min(PROBE_MS, (opts.seconds - elapsed()) * 1000)));
      let text: string;
      try {
        text = await readMetrics();
        lastMetrics = text;
      } catch (err) {
        errors.add('metrics: scrape failed', (err as Error).message);
        continue;
      }
      const el = elapsed();
      probes.push({
        t: el,
        rssMb: sampleSum(text, 'tape_process_resident_memory_bytes') / MB,
        heapMb: sampleSum(text, 'tape_nodejs_heap_size_used_bytes') / MB,
      });
      // Events the capture ring dropped never get a sequence: clients cannot see the loss.
      const lost = sampleSum(text, 'tape_market_events_total', 'outcome="ring_overflow"');
      if (lost > lostSoFar)
        errors.add(
          'market: capture ring overflow (events lost before sequencing)',
          `${lost - lostSoFar} at ${Math.round(el)} s`,
        );
      lostSoFar = lost;
      // prom-client resets its event-loop histogram at each scrape: keep the worst of the row.
      serverLagP99 = Math.max(serverLagP99, sampleSum(text, 'tape_nodejs_eventloop_lag_p99_seconds') * 1000);
      serverLagMax = Math.max(serverLagMax, sampleSum(text, 'tape_nodejs_eventloop_lag_max_seconds') * 1000);
      if (el < nextRow && el < opts.seconds && !opts.signal?.aborted) continue;
      nextRow += opts.sampleSeconds;
      let gcHeapMb = Number.NaN;
      try {
        await inspector.call('HeapProfiler.collectGarbage');
        const after = await readMetrics();
        gcHeapMb = sampleSum(after, 'tape_nodejs_heap_size_used_bytes') / MB;
        gcProbes.push({ t: el, heapMb: gcHeapMb });
      } catch (err) {
        errors.add('metrics: forced GC failed', (err as Error).message);
      }
      const at = nowMs();
      const dt = (at - prev.at) / 1000;
      const cpu = process.cpuUsage();
      const serverCpu = sampleSum(text, 'tape_process_cpu_seconds_total');
      const produced = sampleSum(text, 'tape_market_events_total', 'kind="trade",outcome="accepted"');
      const edits = editors.reduce((n, e) => n + e.edits, 0);
      const lagP99 = genLag.percentile(99) / 1e6;
      const heaps = probes.slice(prev.probes).map((p) => p.heapMb);
      const sample: SoakSample = {
        t: Math.round(el),
        rssMb: probes.at(-1)?.rssMb ?? Number.NaN,
        heapMb: median(heaps),
        heapMinMb: Math.min(...heaps),
        heapMaxMb: Math.max(...heaps),
        gcHeapMb,
        serverCpu: ((serverCpu - prev.serverCpu) / dt) * 100,
        serverLagP99Ms: serverLagP99,
        serverLagMaxMs: serverLagMax,
        produced: (produced - prev.produced) / dt,
        delivered: (totals.trades - prev.trades) / dt,
        frames: (totals.frames - prev.frames) / dt,
        marketP99: marketLatency.window.quantile(0.99),
        orderP99: orderAck.window.quantile(0.99),
        yjsP99: yjsLatency.window.quantile(0.99),
        genLagP99Ms: lagP99,
        load: loadavg()[0] as number,
        genCpu: ((cpu.user + cpu.system - prev.cpu.user - prev.cpu.system) / 1000 / (dt * 1000)) * 100,
        orders: (ordersSent - prev.orders) / dt,
        edits: (edits - prev.edits) / dt,
        errors: errors.total,
      };
      if (el > warmup) genLagTotal.add(lagP99);
      samples.push(sample);
      log(formatRow(sample));
      prev = {
        at,
        cpu,
        serverCpu,
        produced,
        trades: totals.trades,
        frames: totals.frames,
        orders: ordersSent,
        edits,
        probes: probes.length,
      };
      serverLagP99 = 0;
      serverLagMax = 0;
      marketLatency.window.reset();
      orderAck.window.reset();
      orderFill.window.reset();
      yjsLatency.window.reset();
      genLag.reset();
      const measuring = elapsed() >= warmup;
      for (const l of [marketLatency, orderAck, orderFill, yjsLatency]) l.measuring = measuring;
    }
    stopped = true;
    // Stopped early (the bench's Ctrl-C): the thirds are of the load that ran.
    const seconds = Math.min(opts.seconds, elapsed());

    // ---- drain and check
    await until(() => inFlight === 0, 'orders answered', 15_000).catch(() =>
      errors.add('orders: unanswered', `${inFlight} without an answer after 15 s`),
    );
    draining = true;
    const accepted = [...sentAt.keys()];
    await until(() => accepted.every((id) => pushedFinal.has(id)), 'orders final', 10_000).catch(() => {});
    const notFinal = accepted.filter((id) => !pushedFinal.has(id)).length;
    if (notFinal > 0) errors.add('orders: accepted but not final 10 s after the load', String(notFinal));
    // Yjs: every editor of a room ends with the same document, and so does a fresh reader that
    // loads the room from the server.
    const byRoom = new Map<string, Editor[]>();
    for (const e of editors) byRoom.set(e.room, [...(byRoom.get(e.room) ?? []), e]);
    const sameRooms = () =>
      [...byRoom.values()].filter((es) => es.every((e) => e.state === es[0]?.state)).length;
    await until(() => sameRooms() === byRoom.size, 'editors converged', 20_000).catch(() => {});
    const readers = [...byRoom].map(([room, es]) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`ws://127.0.0.1:${srv.port}/yjs`, room, doc, {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        params: { token: editorTokens[0] as string },
        disableBc: true,
      });
      const done = () =>
        provider.synced && es.every((e) => e.state === es[0]?.state) && stateOf(doc) === es[0]?.state;
      return { room, provider, done };
    });
    await until(() => readers.every((r) => r.done()), 'rooms converged', 15_000).catch(() => {});
    let converged = 0;
    for (const r of readers) {
      if (r.done()) converged++;
      else errors.add('yjs: room did not converge', r.room);
    }
    for (const r of readers) r.provider.destroy();
    for (const c of clients) c.check();
    for (const c of cleanups.splice(0).reverse()) c();

    // ---- the server: stops cleanly; anything it logged at warn or above
    srv.child.kill('SIGTERM');
    const exit = await Promise.race([srv.exited, sleep(15_000).then(() => 'timeout' as const)]);
    if (exit === 'timeout') {
      errors.add('server: did not stop within 15 s of SIGTERM');
      srv.child.kill('SIGKILL');
      await srv.exited;
    } else if (exit !== 0) errors.add('server: exit', String(exit));
    if (opts.serverLogFile) writeFileSync(opts.serverLogFile, srv.output());
    const warnings: string[] = [];
    for (const line of srv.output().split('\n')) {
      const level = Number(/"level":(\d+)/.exec(line)?.[1]);
      if (level >= 50) errors.add('server: logged an error', line.slice(0, 300));
      else if (level >= 40) warnings.push(line.slice(0, 300));
    }

    // ---- memory: no growth after the warm-up. The live heap (after a forced full GC, one
    // reading per row) is compared, median of the 2nd third against median of the last third.
    const inThird = (t: number, k: number) => t > (k * seconds) / 3 && t <= ((k + 1) * seconds) / 3 + 0.5;
    const h2 = median(gcProbes.filter((p) => inThird(p.t, 1)).map((p) => p.heapMb));
    const h3 = median(gcProbes.filter((p) => inThird(p.t, 2)).map((p) => p.heapMb));
    const toleranceMb = Math.max(opts.heapToleranceMb, opts.heapToleranceFraction * h2);
    const growthMb = h3 - h2;
    const heap = {
      secondThirdMb: h2,
      lastThirdMb: h3,
      growthMb,
      toleranceMb,
      slopeMbPerMin: slope(
        gcProbes.filter((p) => p.t > seconds / 3).map((p) => ({ x: p.t / 60, y: p.heapMb })),
      ),
      unforcedSecondThirdMb: median(probes.filter((p) => inThird(p.t, 1)).map((p) => p.heapMb)),
      unforcedLastThirdMb: median(probes.filter((p) => inThird(p.t, 2)).map((p) => p.heapMb)),
      rssSecondThirdMb: median(probes.filter((p) => inThird(p.t, 1)).map((p) => p.rssMb)),
      rssLastThirdMb: median(probes.filter((p) => inThird(p.t, 2)).map((p) => p.rssMb)),
      ok: Number.isFinite(growthMb) && growthMb <= toleranceMb,
    };

    const measured = samples.filter((s) => s.t > warmup);
    const mean = (f: (s: SoakSample) => number) =>
      measured.length ? measured.reduce((n, s) => n + f(s), 0) / measured.length : Number.NaN;
    const report: SoakReport = {
      options: opts,
      backend: db.url ? 'postgres' : 'pglite',
      bus: process.env.REDIS_URL || opts.serverEnv?.REDIS_URL ? 'redis' : 'in-process',
      tickers,
      setupSeconds,
      samples,
      probes,
      gcProbes,
      errors: Object.fromEntries(errors.counts),
      errorCount: errors.total,
      errorExamples: errors.examples,
      latency: {
        market: marketLatency.total.summary(),
        orderAck: orderAck.total.summary(),
        orderFill: orderFill.total.summary(),
        yjs: yjsLatency.total.summary(),
        genLag: genLagTotal.summary(),
      },
      market: {
        trades: totals.trades,
        frames: totals.frames,
        producedPerSecond: mean((s) => s.produced),
        deliveredPerSecond: mean((s) => s.delivered),
        conflations: totals.conflations,
        replays: totals.replays,
        replayedTrades: totals.replayedTrades,
        decodedFrames: totals.decoded,
        slowConsumerClosed: sampleSum(lastMetrics, 'tape_ws_slow_consumer_closed_total'),
        events: sampleValues(lastMetrics, 'tape_market_events_total'),
        deadLetters: sampleValues(lastMetrics, 'tape_dead_letters_total'),
        ringOverflow: sampleSum(lastMetrics, 'tape_market_events_total', 'outcome="ring_overflow"'),
        ticksStored: sampleSum(lastMetrics, 'tape_ticks_written_total'),
      },
      orders: {
        sent: ordersSent,
        answered: ordersAnswered,
        ok: ordersOk,
        riskRejected: Object.fromEntries(riskRejected),
        shed: Object.fromEntries(shed),
        filled: finalStates.get('filled') ?? 0,
        finalStates: Object.fromEntries(finalStates),
        notFinal,
      },
      yjs: {
        edits: editors.reduce((n, e) => n + e.edits, 0),
        deliveries: deliveries.n,
        rooms: byRoom.size,
        converged,
        reconnects: editors.reduce((n, e) => n + e.reconnects, 0),
        closes: editors.flatMap((e) => e.closes),
      },
      heap,
      server: { exit: exit === 'timeout' ? 'killed' : exit, warnings },
    };
    return report;
  } finally {
    for (const c of cleanups.reverse()) c();
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await db.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}
