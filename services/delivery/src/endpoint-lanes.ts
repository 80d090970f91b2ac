/**
 * A job of a lane. It may call `release` once its HTTP request is over (before storing the
 * outcome): its slot is free from then on. Its end releases the slot too.
 */
type Job = (release: () => void) => Promise<void>;

/** A job waiting in its lane, with how to settle what `submit` returned. */
interface Queued {
  job: Job;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Lane {
  queue: Queued[];
  running: number;
  /** Jobs of this lane that may run at once (from its endpoint's rate limit at the last submit). */
  slots: number;
  /** When the lane last finished a job (or was created). */
  progressAt: number;
}

/**
 * How many requests one endpoint may have in flight: enough to reach its rate limit against a
 * receiver that answers within `latencyMs` (Little's law), never fewer than `min` nor more than
 * `max`. `max` is a hard ceiling: with 1, an endpoint's first attempts start one at a time.
 */
export interface InFlightBounds {
  min: number;
  max: number;
  latencyMs: number;
}

/** The requests in flight an endpoint with this rate limit (per second) gets under `bounds`. */
export function endpointSlots(ratePerSecond: number, bounds: InFlightBounds): number {
  const wanted = Math.ceil((ratePerSecond * bounds.latencyMs) / 1000);
  return Math.max(1, Math.min(bounds.max, Math.max(bounds.min, wanted)));
}

/**
 * Per-endpoint FIFO lanes under a global bound: at most `endpointSlots` jobs of one endpoint
 * (by its rate limit, see `InFlightBounds`; a number is a fixed count; the floor while
 * `failing` says its last attempt failed, so a dead endpoint does not hold more of the global
 * slots than any other) and `total` jobs overall run at once (a job that releases its slot
 * when its request is over stores its outcome outside the bound), and each lane holds at most
 * `backlogMax` waiting jobs. A lane starts its jobs in submission order, so with one slot an
 * endpoint receives first attempts in the order the messages were consumed. A slow or dead
 * endpoint fills only its own lane: `submit` refuses past the backlog (the caller waits for
 * room or defers).
 */
export class EndpointLanes {
  private readonly lanes = new Map<string, Lane>();
  private runningTotal = 0;
  /** Lanes with a job waiting only for a global slot, in the order they asked. */
  private readonly waitingForSlot: string[] = [];
  private readonly onChange: Array<() => void> = [];

  private readonly bounds: InFlightBounds;
  /** What a failing endpoint gets: the floor (within the ceiling). */
  private readonly failingSlots: number;

  constructor(
    perEndpoint: number | InFlightBounds,
    private readonly total: number,
    private readonly backlogMax: number,
    private readonly failing: (endpointId: string) => boolean = () => false,
  ) {
    this.bounds =
      typeof perEndpoint === 'number'
        ? { min: perEndpoint, max: perEndpoint, latencyMs: 0 }
        : perEndpoint;
    this.failingSlots = endpointSlots(0, this.bounds);
  }

  /**
   * Queues `job` on the endpoint's lane; settles as it ends, or false when the lane is full.
   * `ratePerSecond` is the endpoint's rate limit: it sets the lane's slots from now on (a
   * lowered limit lets the running jobs end, and starts no more than the new count).
   */
  submit(endpointId: string, job: Job, ratePerSecond = 0): Promise<void> | false {
    const slots = endpointSlots(ratePerSecond, this.bounds);
    let lane = this.lanes.get(endpointId);
    if (!lane) {
      lane = { queue: [], running: 0, slots, progressAt: Date.now() };
      this.lanes.set(endpointId, lane);
    } else lane.slots = slots;
    if (lane.queue.length >= this.backlogMax) return false;
    const done = new Promise<void>((resolve, reject) => {
      lane.queue.push({ job, resolve, reject });
    });
    this.pump(endpointId);
    return done;
  }

  /** Whether `submit` would take a job for this endpoint now. */
  hasRoom(endpointId: string): boolean {
    return (this.lanes.get(endpointId)?.queue.length ?? 0) < this.backlogMax;
  }

  /** Whether nothing waits in the endpoint's lane: it goes idle once its running jobs end. */
  isStarving(endpointId: string): boolean {
    return (this.lanes.get(endpointId)?.queue.length ?? 0) === 0;
  }

  /** Whether the lane is full and has finished no job for `ms`: its endpoint is hanging. */
  isStuck(endpointId: string, ms: number): boolean {
    const lane = this.lanes.get(endpointId);
    return (
      lane !== undefined &&
      lane.queue.length >= this.backlogMax &&
      Date.now() - lane.progressAt >= ms
    );
  }

  /** Calls `notify` once, when the next job ends, in any lane. */
  onNextChange(notify: () => void): void {
    this.onChange.push(notify);
  }

  /** Jobs running or waiting, over all lanes. */
  get size(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.queue.length + lane.running;
    return n;
  }

  private pump(endpointId: string): void {
    const lane = this.lanes.get(endpointId);
    if (!lane) return;
    const slots =
      lane.slots > this.failingSlots && this.failing(endpointId) ? this.failingSlots : lane.slots;
    while (lane.queue.length > 0 && lane.running < slots) {
      if (this.runningTotal >= this.total) {
        if (!this.waitingForSlot.includes(endpointId)) this.waitingForSlot.push(endpointId);
        return;
      }
      const queued = lane.queue.shift() as Queued;
      lane.running++;
      this.runningTotal++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        lane.running--;
        this.runningTotal--;
        lane.progressAt = Date.now();
        this.pump(endpointId);
        const next = this.waitingForSlot.shift();
        if (next !== undefined) this.pump(next);
        if (lane.running === 0 && lane.queue.length === 0 && this.lanes.get(endpointId) === lane) {
          this.lanes.delete(endpointId);
        }
        if (this.onChange.length > 0) for (const notify of this.onChange.splice(0)) notify();
      };
      // (one reaction per job, no promise in between: the hot path runs this for every delivery)
      queued.job(release).then(
        () => {
          queued.resolve();
          release();
        },
        (err: unknown) => {
          queued.reject(err);
          release();
        },
      );
    }
  }
}
