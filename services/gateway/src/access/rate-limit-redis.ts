import { Redis } from 'ioredis';
import type { Logger } from '@reten/observability';

/**
 * The Redis client of the rate limiter. No offline queue and a command timeout: while Redis
 * is away a counter fails at once (and the limiter lets the request through) instead of
 * holding requests in a queue.
 */
export function rateLimitRedis(url: string, commandTimeoutMs: number, log: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    connectionName: `reten-gateway-${process.pid}`,
  });
  // the limiter logs the outage once; ioredis would print every reconnect error otherwise
  redis.on('error', (err: Error) => log.debug({ err: err.message }, 'rate limit redis error'));
  return redis;
}

/** Waits (bounded) for the first connection, so a healthy start does not begin failing open. */
export async function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
