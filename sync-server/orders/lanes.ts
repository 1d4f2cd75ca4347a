import type { NewDeadLetter } from '../deadLetters/queue.ts';

// The venue's order announcements, read one order at a time per account. An announcement says
// only that an order changed; its read (OrderVenue.details) returns its current state, so
// announcements of an order not read yet collapse into one read and one order is never read
// twice at once. Each account has its own lane, read in the order of announcement (its fills
// fold into positions in that order); accounts do not wait for each other. Until start-up
// reconciliation has finished, announcements are held (bounded) and read after it, so an order
// the previous run sent is adopted before its acknowledgement is read, not lettered as unknown.

/**
 * Orders announced before start-up reconciliation finished, held to be read once it has; past
 * this many an announcement is dead-lettered (`held_overflow`) rather than held.
 */
export const MAX_HELD_UPDATES = 2_000;

/** Announcements of one account waiting to be read, one read at a time. */
interface Lane {
  /** Announced, not read yet (one entry per order, in order of first announcement). */
  readonly dirty: Map<string, bigint>;
  busy: boolean;
}

export interface LaneReader {
  /** Reads the order and applies what it says. */
  read(localOrderId: bigint): Promise<void>;
  /** A read threw: the reader keeps what it can of it. */
  failed(localOrderId: bigint, err: Error): void;
  /** The account of an order this server knows ('' or undefined: none known yet). */
  accountOf(localOrderId: string): string | undefined;
  deadLetter(letter: NewDeadLetter): void;
}

export class UpdateLanes {
  /** Update lanes by account ('' for orders of no known account). */
  private readonly lanes = new Map<string, Lane>();
  /** The lane an order's pending or running read is in, so one order is never read twice at once. */
  private readonly laneOf = new Map<string, Lane>();
  private readonly running = new Set<Promise<void>>();
  /** Announced before release(), in order of first announcement. */
  private readonly held = new Map<string, bigint>();
  private released = false;
  /** Set at stop(): announcements still queued are left to the next start's reconciliation. */
  private stopped = false;
  private skippedAtStop = 0;

  constructor(private readonly reader: LaneReader) {}

  /** True once release() ran: announcements are read as they come. */
  get isReleased(): boolean {
    return this.released;
  }

  /** Announcements not read yet, over every account. */
  get backlog(): number {
    let n = this.held.size;
    for (const lane of this.lanes.values()) n += lane.dirty.size;
    return n;
  }

  announce(localOrderId: bigint): void {
    if (this.stopped) {
      this.skippedAtStop++;
      return;
    }
    const key = localOrderId.toString();
    if (!this.released) {
      this.hold(key, localOrderId);
      return;
    }
    let lane = this.laneOf.get(key);
    if (!lane) {
      const accountId = this.reader.accountOf(key) ?? '';
      lane = this.lanes.get(accountId);
      if (!lane) {
        lane = { dirty: new Map(), busy: false };
        this.lanes.set(accountId, lane);
      }
      this.laneOf.set(key, lane);
    }
    lane.dirty.set(key, localOrderId);
    if (lane.busy) return;
    lane.busy = true;
    const run = this.drain(lane);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** Reconciliation finished: what was held is read now, in its order; the rest as it comes. */
  release(): void {
    this.released = true;
    const held = [...this.held.values()];
    this.held.clear();
    for (const id of held) this.announce(id);
  }

  /** Resolves once no update is being read (every announcement read, or left at stop()). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  /**
   * The read under way finishes; those still queued are not read. Returns how many
   * announcements were left unread.
   */
  async stop(): Promise<number> {
    this.stopped = true;
    await this.settled();
    this.skippedAtStop += this.backlog;
    return this.skippedAtStop;
  }

  private hold(key: string, localOrderId: bigint): void {
    if (this.held.has(key)) return;
    if (this.held.size >= MAX_HELD_UPDATES) {
      this.reader.deadLetter({
        source: 'profitdll.order',
        reason: 'held_overflow',
        detail: `local id ${localOrderId}: announced before start-up reconciliation finished, past the ${MAX_HELD_UPDATES} held; not read (reconciliation syncs every working order Tape has)`,
        payload: { localOrderId: key },
      });
      return;
    }
    this.held.set(key, localOrderId);
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      for (let next = first(lane.dirty); next && !this.stopped; next = first(lane.dirty)) {
        const [key, localOrderId] = next;
        lane.dirty.delete(key);
        try {
          await this.reader.read(localOrderId);
        } catch (err) {
          this.reader.failed(localOrderId, err as Error);
        }
        // Announced again while it was read: it stays in this lane for the next read.
        if (!lane.dirty.has(key)) this.laneOf.delete(key);
      }
    } finally {
      lane.busy = false;
    }
  }
}

const first = <K, V>(m: Map<K, V>): [K, V] | undefined => m.entries().next().value;
