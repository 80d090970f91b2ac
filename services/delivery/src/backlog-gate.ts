import type { EndpointLanes } from './endpoint-lanes';

/**
 * Decides, for a job whose endpoint lane is full, between waiting for room and deferring it to
 * a retry tier. Waiting is flow control: the consumer stops handing out messages, the broker's
 * prefetch window fills and it stops sending, and nothing churns through the tiers (a backlog
 * after an outage drains at the endpoints' pace, in order). Deferring is isolation, chosen when
 * waiting would hurt others: the lane finished nothing for `maxWaitMs` (a hanging endpoint),
 * a message waiting behind has a job for an endpoint with nothing queued (it would go idle), or
 * no room came within `maxWaitMs`.
 */
export class BacklogGate {
  /** Endpoint ids of the prepared messages waiting for their turn. */
  private readonly queued = new Set<string[]>();
  private readonly onQueued: Array<() => void> = [];

  constructor(
    private readonly lanes: EndpointLanes,
    private readonly maxWaitMs: number,
  ) {}

  /** A prepared message waits for its turn with jobs for these endpoints; call the result when it has it. */
  enqueue(endpointIds: string[]): () => void {
    this.queued.add(endpointIds);
    for (const notify of this.onQueued.splice(0)) notify();
    return () => this.queued.delete(endpointIds);
  }

  /** Resolves true once the endpoint's lane has room, false when the job should be deferred. */
  async room(endpointId: string): Promise<boolean> {
    const deadline = Date.now() + this.maxWaitMs;
    for (;;) {
      if (this.lanes.hasRoom(endpointId)) return true;
      if (this.lanes.isStuck(endpointId, this.maxWaitMs) || this.blocksAnIdleLane()) return false;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.lanes.changed(),
        new Promise<void>((resolve) => this.onQueued.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, left))),
      ]);
      clearTimeout(timer);
    }
  }

  private blocksAnIdleLane(): boolean {
    for (const ids of this.queued) {
      if (ids.some((id) => this.lanes.isStarving(id))) return true;
    }
    return false;
  }
}
