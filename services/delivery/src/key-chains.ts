/**
 * In-process chains of the deliveries of one (endpoint, ordering key): a delivery whose
 * predecessor of the same key is being attempted here waits for that attempt to end before it
 * starts, with its message unacked (held by the broker, not only in memory). When the attempt
 * succeeded, the next one goes at once; when it failed, the next one finds it unfinished and is
 * held in PostgreSQL (see KeyOrder). This saves the round trip through PostgreSQL and the
 * dispatcher for a key whose events come faster than its receiver answers; the order itself is
 * decided by KeyOrder, never by this class.
 *
 * At most `maxWaiting` deliveries wait per key: the next ones go straight to KeyOrder (held,
 * their messages acked), so a key whose receiver hangs cannot fill the prefetch window.
 */
export class KeyChains {
  private readonly chains = new Map<string, { tail: Promise<void>; length: number }>();

  constructor(private readonly maxWaiting: number) {}

  /** What a new delivery of `key` waits for before it starts; undefined: start now. */
  waitFor(key: string): Promise<void> | undefined {
    const chain = this.chains.get(key);
    return chain && chain.length <= this.maxWaiting ? chain.tail : undefined;
  }

  /** Records `done` (the new delivery's attempt) as the latest of `key`. */
  track(key: string, done: Promise<unknown>): void {
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { tail: Promise.resolve(), length: 0 };
      this.chains.set(key, chain);
    }
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    chain.tail = settled;
    chain.length += 1;
    const entry = chain;
    void settled.then(() => {
      entry.length -= 1;
      if (entry.length === 0 && this.chains.get(key) === entry) this.chains.delete(key);
    });
  }

  /** Keys with a delivery running or waiting here. */
  get size(): number {
    return this.chains.size;
  }
}
