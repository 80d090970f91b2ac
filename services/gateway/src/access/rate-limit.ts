import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RetenError } from '@reten/contracts';
import { Counter, Gauge } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';

/** Which counter a request is charged to, and that counter's limit. */
export interface RateCharge {
  /** `rest`, `ingest`, …: the metric label and part of the Redis key. */
  bucket: string;
  /** Whose counter (a key id, a tenant id). */
  key: string;
  /** Requests allowed per window. */
  points: number;
  /** Fixed window length (whole seconds, as rate-limiter-flexible counts). */
  windowSeconds: number;
}

export interface RateLimitOptions {
  redis: Redis;
  /** Prefix of every counter key in Redis (e.g. `reten:rl:`). */
  keyPrefix: string;
  /** The charge of a request, or undefined for requests that are not limited. */
  chargeOf(req: Request): Promise<RateCharge | undefined>;
  log: Logger;
  registry: Registry;
}

function setHeaders(res: Response, charge: RateCharge, r: RateLimiterRes): void {
  res.setHeader('X-RateLimit-Limit', String(charge.points));
  res.setHeader('X-RateLimit-Remaining', String(Math.max(0, r.remainingPoints)));
  res.setHeader('X-RateLimit-Reset', String(Math.ceil(Math.max(0, r.msBeforeNext) / 1000)));
}

/**
 * Fixed-window rate limiting on Redis, shared by every replica (atomic INCR + TTL script of
 * rate-limiter-flexible). Sets `X-RateLimit-*` on every limited response; over the limit → 429
 * `rate_limit_exceeded` with `Retry-After`. Fails open: when Redis cannot answer, requests
 * pass, one log line marks the outage (and one its end), and `reten_rate_limit_fail_open` is 1.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const limiters = new Map<string, RateLimiterRedis>();
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

  function limiterFor(charge: RateCharge): RateLimiterRedis {
    const id = `${charge.bucket}:${charge.points}:${charge.windowSeconds}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: options.redis,
        // limiters of one bucket with other limits share the counters: a new limit applies at once
        keyPrefix: `${options.keyPrefix}${charge.bucket}`,
        points: charge.points,
        duration: charge.windowSeconds,
        rejectIfRedisNotReady: true,
      });
      limiters.set(id, limiter);
    }
    return limiter;
  }

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

  return (req, res, next) => {
    const run = async () => {
      const charge = await options.chargeOf(req);
      if (!charge) return;
      try {
        const r = await limiterFor(charge).consume(charge.key, 1);
        storeAnswered();
        setHeaders(res, charge, r);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) {
          storeFailed(err);
          return;
        }
        storeAnswered();
        setHeaders(res, charge, err);
        const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        res.setHeader('Retry-After', String(retryAfter));
        limited.inc({ bucket: charge.bucket });
        throw new RetenError(
          'rate_limit_exceeded',
          `Rate limit of ${charge.points} requests per ${charge.windowSeconds} s exceeded; retry in ${retryAfter} s`,
        );
      }
    };
    run().then(() => next(), next);
  };
}
