/** How long the end of a delivery's last attempt is remembered; older row reads are redone. */
const WINDOW_MS = 60_000;

/**
 * The deliveries this process attempted lately. A job carries the row as read when its message
 * was prepared; if an attempt of the same delivery ended here after that read (two copies of
 * one message: the relay publishes at least once, a message comes back after a reconnect), the
 * row is read again before sending, so a delivery that already succeeded is not sent twice.
 */
export class RecentAttempts {
  private readonly endedAt = new Map<string, number>();
  private readonly running = new Map<string, Promise<unknown>>();

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
    if (readAt < Date.now() - WINDOW_MS) return true;
    const at = this.endedAt.get(deliveryId);
    return at !== undefined && at >= readAt;
  }

  /** Whether an attempt of this delivery ended here within the window (its row is stored). */
  endedLately(deliveryId: string): boolean {
    const at = this.endedAt.get(deliveryId);
    return at !== undefined && at >= Date.now() - WINDOW_MS;
  }

  /** Marks an attempt of `deliveryId` as running until `done` settles (right after `settled`). */
  start(deliveryId: string, done: Promise<unknown>): void {
    this.running.set(deliveryId, done);
    const end = () => this.ended(deliveryId, done);
    void done.then(end, end);
  }

  private ended(deliveryId: string, done: Promise<unknown>): void {
    if (this.running.get(deliveryId) === done) this.running.delete(deliveryId);
    const now = Date.now();
    this.endedAt.delete(deliveryId);
    this.endedAt.set(deliveryId, now);
    // insertion order is end order: drop what is older than the window
    for (const [id, at] of this.endedAt) {
      if (at >= now - WINDOW_MS) break;
      this.endedAt.delete(id);
    }
  }
}
