import type { Redis } from 'ioredis';

/** What one request is told: let through or not, and the `X-RateLimit-*` figures. */
export interface LeaseDecision {
  allowed: boolean;
  /** Requests still allowed in this window across every process (as far as this one knows). */
  remaining: number;
  /** Until the window ends. */
  msBeforeReset: number;
}

/** The counter a request is charged to (see `RateCharge`). */
export interface LeaseCharge {
  bucket: string;
  key: string;
  points: number;
  windowSeconds: number;
}

interface CounterState {
  points: number;
  windowSeconds: number;
  /** Epoch ms at which the Redis window (and every token leased from it) ends. */
  windowEnd: number;
  /** Leased tokens not used yet. */
  local: number;
  /** The Redis counter after this process's last lease (it may pass `points`). */
  total: number;
  /** The window's points are all leased out: refuse locally until `windowEnd`. */
  exhausted: boolean;
  /** Tokens leased under a limit that changed, unused: given back to the counter by the next lease. */
  giveBack: number;
  pending: Promise<void> | undefined;
}

/**
 * Adds a block to the window's counter, less the tokens given back (only to a window that still
 * exists: a new one starts at the block), starting the window (PEXPIRE) when the key is new;
 * returns the counter and the window's remaining milliseconds.
 */
const LEASE_SCRIPT = `
local delta = tonumber(ARGV[1])
if redis.call('exists', KEYS[1]) == 1 then delta = delta - tonumber(ARGV[3]) end
local n = redis.call('incrby', KEYS[1], delta)
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then
  redis.call('pexpire', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {n, ttl}`;

type LeaseCommand = (
  key: string,
  block: number,
  windowMs: number,
  giveBack: number,
) => Promise<[number, number]>;

/** Counters kept per process; past this many the oldest are forgotten (they are re-leased). */
const MAX_COUNTERS = 100_000;

/**
 * Fixed-window rate limits whose tokens this process leases from Redis in blocks, so most
 * requests are decided in memory instead of by a Redis round trip each. The window's counter
 * lives in Redis as before (one key per bucket and key, shared by every replica): a lease adds
 * a block to it and is granted what was left of the window's points, never more, so the
 * replicas together never let through more than the limit. What a replica leased and did not
 * use is lost to the others until the window ends: a block is `points / blocks` (at least 1),
 * so R replicas let through at least `points × (1 − R / blocks)` of a limit that is asked more.
 * A single replica is exact. Limits below `blocks` points are leased one token at a time.
 */
export class TokenLeases {
  private readonly counters = new Map<string, CounterState>();
  private readonly leaseCommand: LeaseCommand;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    private readonly blocks: number,
    private readonly ready: () => boolean = () => redis.status === 'ready',
  ) {
    if (!(redis as unknown as Record<string, unknown>).retenLease) {
      redis.defineCommand('retenLease', { numberOfKeys: 1, lua: LEASE_SCRIPT });
    }
    const command = (redis as unknown as Record<string, LeaseCommand>).retenLease!;
    this.leaseCommand = command.bind(redis);
  }

  /** The Redis key of a counter (the format rate-limiter-flexible used: limits carry over). */
  redisKey(charge: LeaseCharge): string {
    return `${this.keyPrefix}${charge.bucket}:${charge.key}`;
  }

  blockOf(points: number): number {
    return Math.max(1, Math.floor(points / this.blocks));
  }

  /**
   * Takes one token of `charge`'s counter: decided at once when this process holds a token or
   * knows the window is used up, else after one lease from Redis. Rejects when Redis cannot
   * answer (the caller fails open).
   */
  take(charge: LeaseCharge, now = Date.now()): LeaseDecision | Promise<LeaseDecision> {
    const id = `${charge.bucket}:${charge.key}`;
    let s = this.counters.get(id);
    if (!s || s.points !== charge.points || s.windowSeconds !== charge.windowSeconds) {
      // a new limit applies at once: tokens leased under the old one and not used go back to
      // the counter (with the next lease), so they count against neither limit
      const unused =
        s && s.windowSeconds === charge.windowSeconds && s.windowEnd > now ? s.local : 0;
      s = {
        points: charge.points,
        windowSeconds: charge.windowSeconds,
        windowEnd: s?.windowEnd ?? 0,
        local: 0,
        total: 0,
        exhausted: false,
        giveBack: unused + (s?.giveBack ?? 0),
        pending: s?.pending,
      };
      if (this.counters.size >= MAX_COUNTERS) this.counters.clear();
      this.counters.set(id, s);
    }
    if (s.windowEnd <= now) {
      s.local = 0;
      s.total = 0;
      s.exhausted = false;
      s.giveBack = 0;
    }
    if (s.local > 0) {
      s.local -= 1;
      return {
        allowed: true,
        remaining: Math.max(0, s.points - Math.min(s.total, s.points) + s.local),
        msBeforeReset: s.windowEnd - now,
      };
    }
    if (s.exhausted) return { allowed: false, remaining: 0, msBeforeReset: s.windowEnd - now };
    if (!this.ready()) return Promise.reject(new Error('rate limit redis is not connected'));
    const state = s;
    state.pending ??= this.lease(state, this.redisKey(charge)).finally(() => {
      state.pending = undefined;
    });
    // the waiters of one lease share its block; whoever finds it taken leases the next one
    return state.pending.then(() => this.take(charge, Date.now()));
  }

  private async lease(s: CounterState, redisKey: string): Promise<void> {
    const block = this.blockOf(s.points);
    const windowMs = s.windowSeconds * 1000;
    const giveBack = s.giveBack;
    s.giveBack = 0;
    // what was counted before this lease (less what was given back) is total − block
    let total: number;
    let ttl: number;
    try {
      [total, ttl] = await this.leaseCommand(redisKey, block, windowMs, giveBack);
    } catch (err) {
      s.giveBack += giveBack;
      throw err;
    }
    const now = Date.now();
    const counter = Number(total);
    const granted = Math.max(0, Math.min(block, s.points - (counter - block)));
    if (s.windowEnd <= now) {
      s.local = 0;
      s.exhausted = false;
    }
    s.windowEnd = now + Number(ttl);
    s.local += granted;
    s.total = counter;
    if (granted < block) s.exhausted = true;
  }
}
