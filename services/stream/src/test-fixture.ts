import { silentLogger, testServers, uniqueName } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { loadStreamConfig } from './config';
import { StreamService } from './stream-service';

export interface TestStream {
  service: StreamService;
  /** `ws://127.0.0.1:<port>/events/stream` */
  wsUrl: string;
  httpUrl: string;
  close(): Promise<void>;
}

/**
 * A real stream replica in this process on a random port, against the test's schema, vhost
 * and Redis key prefix (replicas of one test share them). `redisUrl` lets a fault test put a
 * proxy in front of Redis.
 */
export async function startTestStream(options: {
  schema: TestSchema;
  vhost: TestVhost;
  redisPrefix: string;
  redisUrl?: string;
  env?: Record<string, string>;
}): Promise<TestStream> {
  const servers = await testServers();
  const config = loadStreamConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: options.schema.databaseUrl,
    DATABASE_SCHEMA: options.schema.schema,
    DATABASE_POOL_SIZE: '5',
    RABBITMQ_URL: options.vhost.url,
    REDIS_URL: options.redisUrl ?? servers.redisUrl,
    REDIS_KEY_PREFIX: options.redisPrefix,
    SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
    STREAM_CLOSE_GRACE_MS: '500',
    ...options.env,
  });
  const service = new StreamService(config, silentLogger());
  await service.start();
  return {
    service,
    wsUrl: `ws://127.0.0.1:${service.port}/events/stream`,
    httpUrl: `http://127.0.0.1:${service.port}`,
    close: () => service.stop(),
  };
}

/** A Redis key prefix of its own for one test. */
export function testRedisPrefix(title: string): string {
  return `${uniqueName(title)}:`;
}
