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
  /** Endpoints of the prepared messages waiting for their turn: how many jobs each has there. */
  private readonly queued = new Map<string, number>();
  private readonly onQueued: Array<() => void> = [];

  constructor(
    private readonly lanes: EndpointLanes,
    private readonly maxWaitMs: number,
  ) {}

  /** A prepared message waits for its turn with jobs for these endpoints; call the result when it has it. */
  enqueue(endpointIds: string[]): () => void {
    for (const id of endpointIds) this.queued.set(id, (this.queued.get(id) ?? 0) + 1);
    // (splice makes an array even when nothing waits: this runs for every message)
    if (this.onQueued.length > 0) for (const notify of this.onQueued.splice(0)) notify();
    let dequeued = false;
    return () => {
      if (dequeued) return;
      dequeued = true;
      for (const id of endpointIds) {
        const n = (this.queued.get(id) ?? 1) - 1;
        if (n > 0) this.queued.set(id, n);
        else this.queued.delete(id);
      }
    };
  }

  /** Resolves true once the endpoint's lane has room, false when the job should be deferred. */
  async room(endpointId: string): Promise<boolean> {
    if (this.lanes.hasRoom(endpointId)) return true;
    // one timer for the whole wait; each wake-up (a job ended, a message queued) checks again
    let wake: (() => void) | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      wake?.();
    }, this.maxWaitMs);
    try {
      for (;;) {
        if (this.lanes.hasRoom(endpointId)) return true;
        if (timedOut || this.lanes.isStuck(endpointId, this.maxWaitMs) || this.blocksAnIdleLane()) {
          return false;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          this.lanes.onNextChange(resolve);
          this.onQueued.push(resolve);
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private blocksAnIdleLane(): boolean {
    for (const id of this.queued.keys()) {
      if (this.lanes.isStarving(id)) return true;
    }
    return false;
  }
}
