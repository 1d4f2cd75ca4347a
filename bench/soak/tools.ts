import WebSocket from 'ws';
import { until } from '../../sync-server/testing/until.ts';
import type { LatencySummary } from './model.ts';

// The soak's small tools: clocks, latency histograms, error counts, the REST client, the
// inspector that reads the server's heap.

export const nowMs = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const MB = 1024 * 1024;
/** The server's memory is read this often (the table shows one row per sampleSeconds). */
export const PROBE_MS = 1_000;

/** Latencies in 0.1 ms buckets up to 60 s. */
export class Histogram {
  private readonly buckets = new Uint32Array(600_000);
  count = 0;
  max = 0;
  add(ms: number) {
    const i = ms <= 0 ? 0 : Math.min(this.buckets.length - 1, Math.round(ms * 10));
    this.buckets[i] = (this.buckets[i] as number) + 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  quantile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const want = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i] as number;
      // The last bucket holds everything from 60 s up.
      if (seen >= want) return i === this.buckets.length - 1 ? Number.POSITIVE_INFINITY : i / 10;
    }
    return this.max;
  }
  reset() {
    this.buckets.fill(0);
    this.count = 0;
    this.max = 0;
  }
  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.max,
    };
  }
}

/** A latency kind: one histogram per sampling window, one over the run after the warm-up. */
export class Latency {
  readonly window = new Histogram();
  readonly total = new Histogram();
  measuring = false;
  add(ms: number) {
    this.window.add(ms);
    if (this.measuring) this.total.add(ms);
  }
}

export class Errors {
  readonly counts = new Map<string, number>();
  readonly examples: string[] = [];
  total = 0;
  add(kind: string, detail = '') {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.total++;
    if (this.examples.length < 20) this.examples.push(detail ? `${kind}: ${detail}` : kind);
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

type Api = (
  method: string,
  path: string,
  body?: unknown,
  token?: string,
) => Promise<{ status: number; body: Record<string, unknown> }>;

export function apiOf(url: string): Api {
  return async (method, path, body, token) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}

export async function expectStatus(
  p: Promise<{ status: number; body: Record<string, unknown> }>,
  want: number,
  what: string,
) {
  const r = await p;
  if (r.status !== want) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * The server's V8 inspector (it runs with --inspect on a loopback port): a full GC before a
 * memory reading measures the live heap instead of wherever V8's sawtooth happens to be.
 */
export class Inspector {
  private next = 1;
  private readonly waiting = new Map<number, (m: { error?: { message: string } }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { id?: number; error?: { message: string } };
      if (m.id !== undefined) this.waiting.get(m.id)?.(m);
    });
  }
  static async open(output: () => string): Promise<Inspector> {
    const url = await until(() => /Debugger listening on (ws:\/\/\S+)/.exec(output())?.[1], 'inspector url');
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new Inspector(ws);
  }
  call(method: string): Promise<void> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (m) => {
        this.waiting.delete(id);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve();
      });
      this.ws.send(JSON.stringify({ id, method }));
    });
  }
  close() {
    this.ws.close();
  }
}
