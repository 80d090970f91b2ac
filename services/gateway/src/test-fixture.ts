import { createTestSchema, createTestVhost, silentLogger, testServers } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { loadGatewayConfig } from './config';
import { Gateway } from './gateway';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  schema: TestSchema;
  vhost: TestVhost;
  close(): Promise<void>;
}

/**
 * A real gateway in this process on a random port, against the real PostgreSQL (own schema)
 * and RabbitMQ (own vhost). `env` overrides config; `rabbitUrl` lets a fault test put a proxy
 * in front of the broker.
 */
export async function startTestGateway(
  title: string,
  options: {
    env?: Record<string, string>;
    schema?: TestSchema;
    vhost?: TestVhost;
    rabbitUrl?: (url: string) => string;
  } = {},
): Promise<TestGateway> {
  await testServers();
  const schema = options.schema ?? (await createTestSchema(title));
  const vhost = options.vhost ?? (await createTestVhost(title));
  const config = loadGatewayConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: schema.databaseUrl,
    DATABASE_SCHEMA: schema.schema,
    DATABASE_POOL_SIZE: '5',
    RABBITMQ_URL: options.rabbitUrl ? options.rabbitUrl(vhost.url) : vhost.url,
    RELAY_LOCK_RETRY_MS: '200',
    RELAY_POLL_INTERVAL_MS: '200',
    RELAY_RETRY_DELAY_MS: '100',
    SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
    ...options.env,
  });
  const gateway = new Gateway(config, silentLogger());
  await gateway.start();
  const ownsSchema = !options.schema;
  const ownsVhost = !options.vhost;
  return {
    gateway,
    url: `http://127.0.0.1:${gateway.port}`,
    schema,
    vhost,
    close: async () => {
      await gateway.stop();
      if (ownsSchema) await schema.drop();
      if (ownsVhost) await vhost.drop();
    },
  };
}
