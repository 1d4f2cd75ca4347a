// The open dead letters as admins' screens show them live (protocol.md, `deadLetters`): read at
// most once per interval, and only while someone watches, so a server without an admin
// connected never counts.

export const OPEN_COUNT_MS = 1_000;

/**
 * Counts the open letters every `everyMs` while watched and reports each change. The first
 * watcher gets a count at once; the count is forgotten when the last one leaves (it would be
 * stale by the next one).
 */
export class OpenLetterCount {
  private watchers = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private latest: number | undefined;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly changed: (open: number) => void,
    private readonly everyMs = OPEN_COUNT_MS,
  ) {}

  /** The count last read while watched; undefined before the first read. */
  get last(): number | undefined {
    return this.latest;
  }

  watch(): void {
    if (this.watchers++ > 0) return;
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
    void this.tick();
  }

  unwatch(): void {
    if (this.watchers === 0 || --this.watchers > 0) return;
    this.stop();
  }

  /** Shutdown, or the last watcher gone. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.watchers = 0;
    this.latest = undefined;
  }

  private async tick(): Promise<void> {
    // A read slower than the interval (the database struggling) is not doubled up.
    if (this.reading) return;
    this.reading = true;
    try {
      const open = await this.read();
      if (this.timer !== undefined && open !== this.latest) {
        this.latest = open;
        this.changed(open);
      }
    } catch {
      // The database is not answering: the count stays as it was; the next tick tries again.
    } finally {
      this.reading = false;
    }
  }
}
