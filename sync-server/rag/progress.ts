// A progress bar for long jobs (the ingest), on stderr. On a terminal it redraws one line in
// place; otherwise (a log file, CI) it prints a plain line now and then, so logs stay readable.

export interface Progress {
  start(total: number, what: string): void;
  tick(detail?: string): void;
  finish(summary: string): void;
}

export const silentProgress: Progress = { start() {}, tick() {}, finish() {} };

export interface ProgressStream {
  write(s: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export const formatDuration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

export interface ProgressOptions {
  readonly now?: () => number;
  /** Redraws on a terminal at most this often. */
  readonly redrawMs?: number;
  /** Plain lines when not a terminal at most this often. */
  readonly lineMs?: number;
}

export function progressBar(out: ProgressStream, opts: ProgressOptions = {}): Progress {
  const now = opts.now ?? Date.now;
  const tty = out.isTTY === true;
  const redrawMs = opts.redrawMs ?? 100;
  const lineMs = opts.lineMs ?? 2_000;
  let total = 0;
  let done = 0;
  let what = '';
  let started = 0;
  let shownAt = Number.NEGATIVE_INFINITY;
  const line = (detail: string) => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    const elapsed = now() - started;
    const eta =
      done === 0 || done >= total ? '' : ` ETA ${formatDuration((elapsed / done) * (total - done))}`;
    const counts = `${done}/${total} ${what} ${pct}%${eta}`;
    if (!tty) return `${counts}${detail ? ` ${detail}` : ''}`;
    const width = 24;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    const text = `${bar} ${counts}${detail ? ` ${detail}` : ''}`;
    return text.slice(0, Math.max(20, (out.columns || 100) - 1));
  };
  const show = (detail: string, force: boolean) => {
    const t = now();
    if (!force && t - shownAt < (tty ? redrawMs : lineMs)) return;
    shownAt = t;
    out.write(tty ? `\r\x1b[2K${line(detail)}` : `${line(detail)}\n`);
  };
  return {
    start(n, w) {
      total = n;
      done = 0;
      what = w;
      started = now();
      shownAt = Number.NEGATIVE_INFINITY;
      show('', true);
    },
    tick(detail = '') {
      done = Math.min(total, done + 1);
      show(detail, done === total);
    },
    finish(summary) {
      out.write(tty ? `\r\x1b[2K${summary}\n` : `${summary}\n`);
    },
  };
}
