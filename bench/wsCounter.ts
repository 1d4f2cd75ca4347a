// Child process for the fan-out benchmarks: opens N raw WebSocket connections and counts the
// binary frames they receive. It parses only frame headers, so receiving costs the same
// whichever server is measured, and the server side is what the numbers compare. With
// `latency` as 6th argument it also decodes each frame and records, per trade, the time from
// the native capture stamp to receipt here (same machine, same clock).
import { connect, type Socket } from 'node:net';
import { decodeFrame, FrameKind } from '../sync-server/shared/market.ts';
import { maskedTextFrame, upgradeRequest } from '../sync-server/testing/rawWs.ts';

const [port, path, count, subscribe, mode] = [
  Number(process.argv[2]),
  process.argv[3] ?? '/',
  Number(process.argv[4]),
  process.argv[5],
  process.argv[6],
];
const latencies: number[] = [];
const nowMs = () => performance.timeOrigin + performance.now();
let binaryFrames = 0;
let connected = 0;

function open(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    let buf: Buffer = Buffer.alloc(0);
    let upgraded = false;
    s.on('error', reject);
    s.on('connect', () => {
      s.write(upgradeRequest(path));
    });
    s.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.subarray(0, 12).toString().includes('101')) return reject(new Error(buf.toString()));
        upgraded = true;
        buf = buf.subarray(end + 4);
        if (subscribe) s.write(maskedTextFrame(subscribe));
        connected++;
        resolve();
      }
      let o = 0;
      while (buf.length - o >= 2) {
        const op = (buf[o] as number) & 0x0f;
        let len = (buf[o + 1] as number) & 0x7f;
        let head = 2;
        if (len === 126) {
          if (buf.length - o < 4) break;
          len = buf.readUInt16BE(o + 2);
          head = 4;
        } else if (len === 127) {
          if (buf.length - o < 10) break;
          len = Number(buf.readBigUInt64BE(o + 2));
          head = 10;
        }
        if (buf.length - o < head + len) break;
        if (op === 2) {
          binaryFrames++;
          // Latency is sampled on every 10th connection: the others only count, keeping this
          // process's own CPU use from distorting what it measures.
          if (mode === 'latency' && index % 10 === 0) {
            const at = nowMs();
            const frame = decodeFrame(buf.subarray(o + head, o + head + len));
            if (frame.kind === FrameKind.trades)
              for (const t of frame.trades) latencies.push(at - t.capturedAt);
          }
        }
        o += head + len;
      }
      buf = buf.subarray(o);
    });
  });
}

for (let i = 0; i < count; i++) await open(i);
process.send?.({ connected });
setInterval(() => process.send?.({ binaryFrames }), 5).unref();
// `mark` notes where a window of the bench starts in the samples; `windows` answers each window's
// quantiles once the bench is over (a window's own answer would stall the next one).
const marks: number[] = [];
process.on('message', (m) => {
  if (m === 'mark') marks.push(latencies.length);
  if (m === 'latencies') process.send?.({ latencies: latencies.splice(0) });
  // Each marked window's p50 and p99 (ms), worked out here: the samples never cross the pipe.
  if (m === 'windows') {
    const ends = [...marks.splice(0), latencies.length];
    const q = (xs: number[], p: number) =>
      xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;
    const windows = ends.slice(0, -1).map((from, i) => {
      const xs = latencies.slice(from, ends[i + 1]).sort((a, b) => a - b);
      return { p50: q(xs, 0.5), p99: q(xs, 0.99) };
    });
    latencies.length = 0;
    process.send?.({ windows });
  }
  if (m === 'exit') process.exit(0);
});
