import type { Redis } from 'ioredis';
import type { OutageLog } from './outage-log';

// GCRA (a token bucket with a burst of one): each caller reserves the next slot of the
// endpoint's schedule, shared by every replica through Redis, and learns how long to wait.
// A wait longer than ARGV[2] reserves nothing (the caller defers the delivery instead).
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then return {0, wait} end
local nextTat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', nextTat), 'PX', math.floor((nextTat - now) / 1000) + 1000)
return {1, wait}
`;

interface GcraRedis {
  retenGcraReserve(key: string, intervalUs: number, maxWaitUs: number): Promise<[number, number]>;
}

/** Outcome of asking for a slot: wait `waitMs` then send, or defer (nothing reserved). */
export interface Slot {
  granted: boolean;
  waitMs: number;
}

/** While Redis is failing, one call this long after the last failure tries it again. */
const PROBE_INTERVAL_MS = 1_000;

/**
 * Per-endpoint rate limit in Redis, shared by all delivery replicas. Fails open: while Redis
 * fails (or stalls until the command timeout), attempts go without a limit, and only one probe
 * a second waits for Redis, so an outage costs no attempt a timeout. `state` logs the outage
 * once, and its end, and counts every call that went without a limit.
 */
export class EndpointRateLimiter {
  /** When the last call to Redis failed (one to a stalled Redis lasts the command timeout). */
  private lastFailureAt = 0;
  private probing = false;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly maxWaitMs: number,
    private readonly state: OutageLog,
  ) {
    // EVALSHA after the first call instead of sending the script every time
    redis.defineCommand('retenGcraReserve', { numberOfKeys: 1, lua: SCRIPT });
  }

  /** Reserves the endpoint's next slot at `perSecond`; fails open (no wait) when Redis fails. */
  async reserve(endpointId: string, perSecond: number): Promise<Slot> {
    const probe = this.state.isDown;
    if (probe) {
      const now = Date.now();
      if (this.probing || now - this.lastFailureAt < PROBE_INTERVAL_MS) {
        this.state.failed(undefined);
        return { granted: true, waitMs: 0 };
      }
      this.probing = true;
    }
    const intervalUs = Math.max(1, Math.round(1_000_000 / perSecond));
    try {
      const [granted, waitUs] = await (this.redis as unknown as GcraRedis).retenGcraReserve(
        `${this.keyPrefix}delivery:rate:${endpointId}`,
        intervalUs,
        this.maxWaitMs * 1000,
      );
      this.state.succeeded();
      return { granted: granted === 1, waitMs: waitUs / 1000 };
    } catch (err) {
      this.lastFailureAt = Date.now();
      this.state.failed(err);
      return { granted: true, waitMs: 0 };
    } finally {
      if (probe) this.probing = false;
    }
  }
}
