/** The last `capacity` seqs seen, to drop redelivered duplicates (AMQP redelivery, resends). */
export class RecentSeqs {
  private readonly ring: number[];
  private readonly set = new Set<number>();
  private next = 0;

  constructor(private readonly capacity: number) {
    this.ring = new Array<number>(capacity).fill(-1);
  }

  /** Records `seq`; false when it was already among the recent ones. */
  add(seq: number): boolean {
    if (this.set.has(seq)) return false;
    const evicted = this.ring[this.next];
    if (evicted !== undefined && evicted >= 0) this.set.delete(evicted);
    this.ring[this.next] = seq;
    this.set.add(seq);
    this.next = (this.next + 1) % this.capacity;
    return true;
  }
}
