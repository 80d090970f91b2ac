import type { Redis } from 'ioredis';
import type { OutageLog } from './outage-log';

// GCRA (a token bucket with a burst of one): each caller reserves the next slot of the
// endpoint's schedule, shared by every replica through Redis, and learns how long to wait.
// One call serves a batch: per key (ARGV: interval µs, callers n, longest wait µs, lease µs) it
// reserves the next k ≤ n consecutive slots whose wait stays within the longest wait, exactly
// what k calls of one slot each would have reserved, and returns k and the wait of the first
// slot. Callers past k reserve nothing (they defer the delivery instead).
// When every caller got its slot, the reservation also covers the rest of a window of `lease`
// µs from the first slot (the lease): the schedule's next free slot moves to the window's end,
// so no other replica gets a slot inside it, and the third value returned per key is the
// window's end (µs from now). The replica hands the window's slots to its later callers itself.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[4 * i - 3])
  local n = tonumber(ARGV[4 * i - 2])
  local maxWait = tonumber(ARGV[4 * i - 1])
  local lease = tonumber(ARGV[4 * i])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local wait = tat - now
  local k = 0
  if wait <= maxWait then k = math.min(n, math.floor((maxWait - wait) / interval) + 1) end
  local nextTat = tat + k * interval
  if k == n and lease > k * interval then nextTat = tat + lease end
  if k > 0 then
    redis.call('SET', key, string.format('%.0f', nextTat), 'PX', math.floor((nextTat - now) / 1000) + 1000)
  end
  out[3 * i - 2] = k
  out[3 * i - 1] = wait
  out[3 * i] = nextTat - now
end
return out
`;

interface GcraRedis {
  retenGcraReserveMany(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
}

/** Outcome of asking for a slot: wait `waitMs` then send, or defer (nothing reserved). */
export interface Slot {
  granted: boolean;
  waitMs: number;
}

interface Caller {
  resolve: (slot: Slot) => void;
}

/** The callers of one endpoint at one rate in a batch, in the order they asked. */
interface Group {
  id: string;
  key: string;
  intervalUs: number;
  callers: Caller[];
}

/**
 * Slots of an endpoint's schedule reserved in Redis and not handed out yet: from `nextAt` to
 * `endAt` (`performance.now()` ms), one every `intervalMs`.
 */
interface Lease {
  nextAt: number;
  endAt: number;
  intervalMs: number;
}

/** While Redis is failing, one call this long after the last failure tries it again. */
const PROBE_INTERVAL_MS = 1_000;
/** Most callers one Redis call serves (bounds the script's run time). */
const BATCH_MAX = 500;
/** Leases kept before the expired ones are dropped. */
const LEASES_SWEEP_AT = 1_000;

/**
 * Per-endpoint rate limit in Redis, shared by all delivery replicas. Fails open: while Redis
 * fails (or stalls until the command timeout), attempts go without a limit, and only one probe
 * a second waits for Redis, so an outage costs no attempt a timeout. `state` logs the outage
 * once, and its end, and counts every call that went without a limit.
 *
 * One round trip serves many callers: the calls made while the previous one is in flight (or
 * in the same turn of the event loop) go to Redis together, one script reserving consecutive
 * slots per endpoint in the order the callers asked. Each caller gets the slot it would have
 * got alone, so the limit seen by a receiver is the same, across every replica.
 *
 * With `leaseMs` > 0, a call that got every caller its slot reserves the rest of a window of
 * `leaseMs` too (see SCRIPT): the callers that come within that window take its slots here,
 * one every interval from the later of the next free slot and now, without a round trip. No
 * other replica gets a slot inside the window, so the schedule (and the limit a receiver sees)
 * stays one slot per interval; a slot of the window that nobody takes by its time is lost, as
 * a slot of GCRA is when no request comes. The window matters only for limits above one slot
 * per `leaseMs`: at 100/s and a window of 10 ms, each call reserves exactly its callers' slots.
 * The cost: another replica's attempt to the same endpoint may wait up to `leaseMs` for a slot
 * this replica reserved and did not use.
 *
 * With `callIntervalMs` > 0, a call starts at least that long after the previous one started:
 * the callers that ask meanwhile wait and go together. A round trip costs both processes about
 * the same CPU whatever it carries, so a busy replica makes fewer and fuller calls (at 2,000
 * deliveries/s over 100 endpoints, ~190 calls/s of ~10 callers instead of 500–880 of 2–4), at
 * the price of up to that interval before an attempt's slot; a replica that calls less often
 * than that waits for nothing. The slots are still computed when the call reaches Redis, so
 * the wait never lets requests bunch.
 */
export class EndpointRateLimiter {
  /** When the last call to Redis failed (one to a stalled Redis lasts the command timeout). */
  private lastFailureAt = 0;
  private pending = new Map<string, Group>();
  private pendingCount = 0;
  private scheduled = false;
  private inFlight = false;
  /** Reserved windows by `endpointId intervalUs`. */
  private readonly leases = new Map<string, Lease>();
  /** When the last call to Redis started (`performance.now()`). */
  private lastCallAt = -Infinity;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly maxWaitMs: number,
    private readonly state: OutageLog,
    private readonly leaseMs = 0,
    private readonly callIntervalMs = 0,
  ) {
    // EVALSHA after the first call instead of sending the script every time
    redis.defineCommand('retenGcraReserveMany', { lua: SCRIPT });
  }

  /** Reserves the endpoint's next slot at `perSecond`; fails open (no wait) when Redis fails. */
  reserve(endpointId: string, perSecond: number): Promise<Slot> {
    const intervalUs = Math.max(1, Math.round(1_000_000 / perSecond));
    const id = `${endpointId} ${intervalUs}`;
    const leased = this.fromLease(id);
    if (leased !== undefined) return Promise.resolve(leased);
    // while Redis is out, only the probe (one call a second) waits for it; the others go at once
    if (
      this.state.isDown &&
      (this.inFlight || Date.now() - this.lastFailureAt < PROBE_INTERVAL_MS)
    ) {
      this.state.failed(undefined);
      return Promise.resolve({ granted: true, waitMs: 0 });
    }
    return new Promise<Slot>((resolve) => {
      let group = this.pending.get(id);
      if (!group) {
        const key = `${this.keyPrefix}delivery:rate:${endpointId}`;
        this.pending.set(id, (group = { id, key, intervalUs, callers: [] }));
      }
      group.callers.push({ resolve });
      this.pendingCount += 1;
      this.schedule();
    });
  }

  /** The next slot of the endpoint's lease, if one is left before the window ends. */
  private fromLease(id: string): Slot | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    const now = performance.now();
    const at = Math.max(lease.nextAt, now);
    if (at + lease.intervalMs > lease.endAt) {
      this.leases.delete(id);
      return undefined;
    }
    lease.nextAt = at + lease.intervalMs;
    return { granted: true, waitMs: at - now };
  }

  /** Keeps the window a reservation made beyond its callers' slots (see SCRIPT). */
  private keepLease(group: Group, firstWaitUs: number, endUs: number, receivedAt: number): void {
    const intervalMs = group.intervalUs / 1000;
    const nextAt = receivedAt + (firstWaitUs + group.callers.length * group.intervalUs) / 1000;
    const endAt = receivedAt + endUs / 1000;
    if (nextAt + intervalMs > endAt) return;
    if (this.leases.size >= LEASES_SWEEP_AT) {
      for (const [id, lease] of this.leases) {
        if (lease.endAt <= receivedAt) this.leases.delete(id);
      }
    }
    this.leases.set(group.id, { nextAt, endAt, intervalMs });
  }

  /**
   * Sends the waiting callers once nothing is in flight: in the next turn (to gather more), or
   * once `callIntervalMs` has passed since the last call started.
   */
  private schedule(): void {
    if (this.inFlight || this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    const waitMs = this.lastCallAt + this.callIntervalMs - performance.now();
    if (waitMs >= 1) setTimeout(go, waitMs);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.pendingCount === 0) return;
    const groups: Group[] = [];
    let taken = 0;
    for (const [id, group] of this.pending) {
      if (taken > 0 && taken + group.callers.length > BATCH_MAX) break;
      groups.push(group);
      taken += group.callers.length;
      this.pending.delete(id);
    }
    this.pendingCount -= taken;
    this.inFlight = true;
    try {
      await this.reserveGroups(groups);
    } finally {
      this.inFlight = false;
      if (this.pendingCount > 0) this.schedule();
    }
  }

  private async reserveGroups(groups: Group[]): Promise<void> {
    const grantAll = (err: unknown) => {
      for (const g of groups) {
        for (const c of g.callers) {
          this.state.failed(err);
          c.resolve({ granted: true, waitMs: 0 });
        }
      }
    };
    // still down and not yet time to probe (the outage began while these waited): no wait
    if (this.state.isDown && Date.now() - this.lastFailureAt < PROBE_INTERVAL_MS) {
      grantAll(undefined);
      return;
    }
    const maxWaitUs = this.maxWaitMs * 1000;
    const leaseUs = this.leaseMs * 1000;
    const args: (string | number)[] = groups.map((g) => g.key);
    for (const g of groups) args.push(g.intervalUs, g.callers.length, maxWaitUs, leaseUs);
    let reply: number[];
    this.lastCallAt = performance.now();
    try {
      reply = await (this.redis as unknown as GcraRedis).retenGcraReserveMany(
        groups.length,
        ...args,
      );
    } catch (err) {
      this.lastFailureAt = Date.now();
      grantAll(err);
      return;
    }
    this.state.succeeded();
    const receivedAt = performance.now();
    groups.forEach((g, i) => {
      const granted = Number(reply[3 * i]);
      const firstWaitUs = Number(reply[3 * i + 1]);
      if (leaseUs > 0 && granted === g.callers.length) {
        this.keepLease(g, firstWaitUs, Number(reply[3 * i + 2]), receivedAt);
      }
      g.callers.forEach((c, n) =>
        c.resolve({ granted: n < granted, waitMs: (firstWaitUs + n * g.intervalUs) / 1000 }),
      );
    });
  }
}
