import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RetenError } from '@reten/contracts';
import { Counter, Gauge } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';
import { TokenLeases } from './rate-limit-leases';
import type { LeaseDecision } from './rate-limit-leases';

/** Which counter a request is charged to, and that counter's limit. */
export interface RateCharge {
  /** `rest`, `ingest`, …: the metric label and part of the Redis key. */
  bucket: string;
  /** Whose counter (a key id, a tenant id). */
  key: string;
  /** Requests allowed per window. */
  points: number;
  /** Fixed window length (whole seconds). */
  windowSeconds: number;
}

export interface RateLimitOptions {
  redis: Redis;
  /** Prefix of every counter key in Redis (e.g. `reten:rl:`). */
  keyPrefix: string;
  /** A process leases `points / leaseBlocks` tokens at a time (see `TokenLeases`). */
  leaseBlocks: number;
  log: Logger;
  registry: Registry;
}

/** The charge of a request (at once when its tenant's limits are cached), or undefined. */
export type ChargeOf = (req: Request) => RateCharge | undefined | Promise<RateCharge | undefined>;

function setHeaders(res: Response, charge: RateCharge, d: LeaseDecision): void {
  res.setHeader('X-RateLimit-Limit', String(charge.points));
  res.setHeader('X-RateLimit-Remaining', String(Math.max(0, d.remaining)));
  res.setHeader('X-RateLimit-Reset', String(Math.ceil(Math.max(0, d.msBeforeReset) / 1000)));
}

/**
 * Fixed-window rate limiting on Redis, shared by every replica: tokens are leased from the
 * window's Redis counter in blocks (`TokenLeases`), so most requests are decided in memory.
 * Sets `X-RateLimit-*` on every limited response; over the limit → 429 `rate_limit_exceeded`
 * with `Retry-After`. Fails open: when Redis cannot answer, requests pass, one log line marks
 * the outage (and one its end), and `reten_rate_limit_fail_open` is 1. Returns a maker of
 * middleware (one per way of telling a request's charge), all sharing the leases and metrics.
 */
export function rateLimiter(options: RateLimitOptions): (chargeOf: ChargeOf) => RequestHandler {
  const leases = new TokenLeases(options.redis, options.keyPrefix, options.leaseBlocks);
  const limited = new Counter({
    name: 'reten_rate_limited_total',
    help: 'Requests refused with 429, by bucket',
    labelNames: ['bucket'] as const,
    registers: [options.registry],
  });
  const storeErrors = new Counter({
    name: 'reten_rate_limit_store_errors_total',
    help: 'Requests let through unlimited because Redis did not answer (fail open)',
    registers: [options.registry],
  });
  const failOpen = new Gauge({
    name: 'reten_rate_limit_fail_open',
    help: '1 while the rate limiter cannot reach Redis and lets every request through',
    registers: [options.registry],
  });
  let failingOpen = false;

  function storeFailed(err: unknown): void {
    storeErrors.inc();
    if (failingOpen) return;
    failingOpen = true;
    failOpen.set(1);
    options.log.warn({ err }, 'rate limiter cannot reach redis: failing open');
  }

  function storeAnswered(): void {
    if (!failingOpen) return;
    failingOpen = false;
    failOpen.set(0);
    options.log.info('rate limiter reaches redis again');
  }

  /** Headers, and 429 when refused; next() either way. */
  function decide(res: Response, charge: RateCharge, d: LeaseDecision, next: NextFunction): void {
    setHeaders(res, charge, d);
    if (d.allowed) {
      next();
      return;
    }
    const retryAfter = Math.max(1, Math.ceil(d.msBeforeReset / 1000));
    res.setHeader('Retry-After', String(retryAfter));
    limited.inc({ bucket: charge.bucket });
    next(
      new RetenError(
        'rate_limit_exceeded',
        `Rate limit of ${charge.points} requests per ${charge.windowSeconds} s exceeded; retry in ${retryAfter} s`,
      ),
    );
  }

  function charged(res: Response, charge: RateCharge | undefined, next: NextFunction): void {
    if (!charge) {
      next();
      return;
    }
    let decision: LeaseDecision | Promise<LeaseDecision>;
    try {
      decision = leases.take(charge);
    } catch (err) {
      storeFailed(err);
      next();
      return;
    }
    if (!(decision instanceof Promise)) {
      // decided in memory: Redis has not been asked, so it says nothing about an outage
      decide(res, charge, decision, next);
      return;
    }
    decision.then(
      (d) => {
        storeAnswered();
        decide(res, charge, d, next);
      },
      (err: unknown) => {
        storeFailed(err);
        next();
      },
    );
  }

  return (chargeOf) => (req, res, next) => {
    let charge: ReturnType<ChargeOf>;
    try {
      charge = chargeOf(req);
    } catch (err) {
      next(err);
      return;
    }
    if (charge instanceof Promise) {
      charge.then((c) => charged(res, c, next), next);
      return;
    }
    charged(res, charge, next);
  };
}
