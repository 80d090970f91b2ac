/** How long the end of a delivery's last attempt is remembered; older row reads are redone. */
export const RECENT_WINDOW_MS = 60_000;
/** Ends are kept in generations of this span... */
const GENERATION_MS = RECENT_WINDOW_MS / 2;
/** ...and this many of them: the oldest goes whole when a new one starts (see `ended`). */
const GENERATIONS = 3;

/**
 * The deliveries this process attempted lately. A job carries the row as read when its message
 * was prepared; if an attempt of the same delivery ended here after that read (two copies of
 * one message: the relay publishes at least once, a message comes back after a reconnect), the
 * row is read again before sending, so a delivery that already succeeded is not sent twice.
 *
 * The ends are kept in generations, not in one map trimmed from its oldest entry: a `Map`
 * keeps the slots of deleted entries until it is rebuilt, and a walk from its start steps over
 * every one of them, so trimming one map at each end cost a walk over up to the whole window's
 * deleted entries once the process had run for a window at a steady rate (~130 µs per delivery
 * two minutes in at 4,000 per second, ~30 at 1,000; `node bench/delivery/recent-attempts.js`).
 * A generation is only ever added to and dropped whole: each end costs a few map operations
 * whatever the rate.
 */
export class RecentAttempts {
  /** End time (`now()`) by delivery id, the newest generation first. */
  private readonly generations: Map<string, number>[] = [new Map<string, number>()];
  /** When each generation started, in the same order. */
  private readonly starts: number[];
  private readonly running = new Map<string, Promise<unknown>>();

  /** `now`: the clock of the ends and of the read times given (ms; tests set it). */
  constructor(private readonly now: () => number = Date.now) {
    this.starts = [now()];
  }

  /** Whether an attempt of this delivery runs in this process now. */
  isRunning(deliveryId: string): boolean {
    return this.running.has(deliveryId);
  }

  /** Resolves once no attempt of this delivery runs in this process. */
  async settled(deliveryId: string): Promise<void> {
    for (let r = this.running.get(deliveryId); r; r = this.running.get(deliveryId)) {
      await r.catch(() => undefined);
    }
  }

  /** Whether a row of this delivery read at `readAt` may be stale (after `settled`). */
  mayBeStale(deliveryId: string, readAt: number): boolean {
    if (readAt < this.now() - RECENT_WINDOW_MS) return true;
    const at = this.endOf(deliveryId, readAt);
    return at !== undefined && at >= readAt;
  }

  /** Whether an attempt of this delivery ended here within the window (its row is stored). */
  endedLately(deliveryId: string): boolean {
    const since = this.now() - RECENT_WINDOW_MS;
    const at = this.endOf(deliveryId, since);
    return at !== undefined && at >= since;
  }

  /** Marks an attempt of `deliveryId` as running until `done` settles (right after `settled`). */
  start(deliveryId: string, done: Promise<unknown>): void {
    this.running.set(deliveryId, done);
    const end = () => this.ended(deliveryId, done);
    void done.then(end, end);
  }

  /** Ids remembered, over every generation (a delivery counts once per generation; tests). */
  get remembered(): number {
    let n = 0;
    for (const generation of this.generations) n += generation.size;
    return n;
  }

  /**
   * The delivery's latest end still kept, if it is at `since` or later (an older one may be
   * returned too: callers compare). Generations that end before `since` are not looked in.
   */
  private endOf(deliveryId: string, since: number): number | undefined {
    for (let i = 0; i < this.generations.length; i++) {
      const at = (this.generations[i] as Map<string, number>).get(deliveryId);
      if (at !== undefined) return at;
      // every end in the older generations is before this one started
      if ((this.starts[i] as number) <= since) return undefined;
    }
    return undefined;
  }

  private ended(deliveryId: string, done: Promise<unknown>): void {
    if (this.running.get(deliveryId) === done) this.running.delete(deliveryId);
    const now = this.now();
    // a generation starts at the first end GENERATION_MS or more after the last one started,
    // and the oldest past GENERATIONS goes: an end is kept for GENERATIONS - 1 spans at least,
    // the window (half more at a steady rate); the checks above compare times, so what
    // is kept longer changes nothing
    if (now - (this.starts[0] as number) >= GENERATION_MS) {
      this.generations.unshift(new Map<string, number>());
      this.starts.unshift(now);
      if (this.generations.length > GENERATIONS) {
        this.generations.pop();
        this.starts.pop();
      }
    }
    (this.generations[0] as Map<string, number>).set(deliveryId, now);
  }
}
