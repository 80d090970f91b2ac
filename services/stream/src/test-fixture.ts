import amqplib from 'amqplib';
import { STREAM_QUEUE } from '@reten/contracts';
import { TEST_JWT_SECRET, eventually, silentLogger, testServers, uniqueName } from '@reten/testing';
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
    JWT_SECRET: TEST_JWT_SECRET,
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
  await untilQueueConsumed(options.vhost.url);
  return {
    service,
    wsUrl: `ws://127.0.0.1:${service.port}/events/stream`,
    httpUrl: `http://127.0.0.1:${service.port}`,
    close: () => service.stop(),
  };
}

/**
 * Resolves once `reten.stream` exists with a consumer in the vhost: the broker connects in the
 * background, and an event published before the queue exists is routed to no queue.
 */
async function untilQueueConsumed(vhostUrl: string): Promise<void> {
  const connection = await amqplib.connect(vhostUrl);
  try {
    await eventually(
      async () => {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        const { consumerCount } = await channel.checkQueue(STREAM_QUEUE);
        await channel.close();
        if (consumerCount === 0) throw new Error(`${STREAM_QUEUE} has no consumer yet`);
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  } finally {
    await connection.close();
  }
}

/** A Redis key prefix of its own for one test. */
export function testRedisPrefix(title: string): string {
  return `${uniqueName(title)}:`;
}
