import path from 'node:path';
import { ServiceProcess, freePort, testServers, uniqueName } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';

/** The compiled delivery service: end-to-end tests need `tsc -b` first. */
export const DELIVERY_MAIN = path.resolve(__dirname, '../../services/delivery/dist/main.js');

export interface DeliveryProcess {
  process: ServiceProcess;
  url: string;
}

/**
 * Starts `services/delivery/dist/main.js` on a free port against the test's schema and vhost,
 * private targets allowed (receivers listen on 127.0.0.1), short retries unless `env` says
 * otherwise. `redisPrefix` keeps rate-limit counters per test (share it across restarts).
 */
export async function startDeliveryProcess(
  schema: TestSchema,
  vhost: TestVhost,
  redisPrefix: string,
  env: Record<string, string> = {},
): Promise<DeliveryProcess> {
  const port = await freePort();
  const proc = await ServiceProcess.start({
    script: DELIVERY_MAIN,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: schema.databaseUrl,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '5',
      RABBITMQ_URL: vhost.url,
      REDIS_URL: (await testServers()).redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      DELIVERY_RETRY_SCHEDULE_SECONDS: '0,0.3,0.3',
      DELIVERY_RETRY_JITTER_PERCENT: '0',
      DELIVERY_DISPATCH_POLL_MS: '200',
      // these tests fail endpoints on purpose; the circuit breaker has its own tests
      DELIVERY_BREAKER_FAILURES: '1000',
      ...env,
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    readyTimeoutMs: 30_000,
  });
  return { process: proc, url: `http://127.0.0.1:${port}` };
}

/** A Redis key prefix for one test's delivery processes. */
export function deliveryRedisPrefix(title: string): string {
  return `${uniqueName(title)}:`;
}
