interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Groups the calls made in the same turn of the event loop (up to `maxSize`) into one call of
 * `run`, which returns one result per item in order: one SQL statement for many concurrent
 * deliveries instead of one each. A failed batch fails each of its callers.
 *
 * With `maxInFlight`, at most that many batches run at once: calls made meanwhile wait and go
 * together in the next batch when one ends, so under load batches grow instead of statements
 * queueing for connections (fewer statements and commits per event); when idle, a call still
 * goes in the next turn.
 *
 * With `lingerMs`, a batch goes once its oldest call has waited that long (or it is full), not
 * in the next turn: larger batches for calls whose answer is not awaited by anything urgent.
 */
export class MicroBatch<I, O> {
  private pending: Pending<I, O>[] = [];
  private scheduled = false;
  private running = 0;
  /** When the oldest pending call was made (`performance.now()`), with `lingerMs`. */
  private oldestAt = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxSize: number,
    private readonly maxInFlight = Infinity,
    private readonly lingerMs = 0,
  ) {}

  call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.pending.length === 0 && this.lingerMs > 0) this.oldestAt = performance.now();
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxSize && this.running < this.maxInFlight) this.flush();
      else this.schedule();
    });
  }

  /** Batches running now (tests). */
  get inFlight(): number {
    return this.running;
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.maxInFlight) return;
    this.scheduled = true;
    const waitMs = this.lingerMs > 0 ? this.oldestAt + this.lingerMs - performance.now() : 0;
    if (waitMs >= 1) setTimeout(() => this.flush(), waitMs);
    else setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.running >= this.maxInFlight) return;
    const batch = this.pending.splice(0, this.maxSize);
    // the calls left over (size limit) have waited as long as this batch's
    if (this.pending.length > 0) this.oldestAt = performance.now() - this.lingerMs;
    this.running += 1;
    const done = () => {
      this.running -= 1;
      if (this.pending.length > 0) this.schedule();
    };
    this.run(batch.map((p) => p.item)).then(
      (outs) => {
        done();
        batch.forEach((p, i) => p.resolve(outs[i] as O));
      },
      (err: unknown) => {
        done();
        batch.forEach((p) => p.reject(err));
      },
    );
    // more than one batch waiting (size limit): the next goes now if a slot is free
    if (this.pending.length >= this.maxSize) this.flush();
    else if (this.pending.length > 0) this.schedule();
  }
}
