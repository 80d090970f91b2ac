import {
  createTestSchema,
  createTestVhost,
  silentLogger,
  TEST_JWT_SECRET,
  testServers,
  uniqueName,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import type { Logger } from '@reten/observability';
import { SCOPES, TenantStore } from '@reten/auth';
import type { Scope } from '@reten/auth';
import { loadGatewayConfig } from './config';
import { Gateway } from './gateway';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  schema: TestSchema;
  vhost: TestVhost;
  /** An API key with every scope, of tenant `tenantId` (created in the test schema). */
  apiKey: string;
  tenantId: string;
  /** Creates (if needed) a tenant and a new key of it with these scopes; returns the key. */
  createKey(tenantId: string, scopes: Scope[], name?: string): Promise<string>;
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
    /** Tenant of `apiKey` (default `dev`). */
    tenantId?: string;
    /** Where the gateway logs (default: nowhere); e.g. a `logSink()` logger. */
    log?: Logger;
  } = {},
): Promise<TestGateway> {
  const servers = await testServers();
  const schema = options.schema ?? (await createTestSchema(title));
  const vhost = options.vhost ?? (await createTestVhost(title));
  const config = loadGatewayConfig({
    PORT: '0',
    JWT_SECRET: TEST_JWT_SECRET,
    HOST: '127.0.0.1',
    DATABASE_URL: schema.databaseUrl,
    DATABASE_SCHEMA: schema.schema,
    DATABASE_POOL_SIZE: '5',
    RABBITMQ_URL: options.rabbitUrl ? options.rabbitUrl(vhost.url) : vhost.url,
    RELAY_LOCK_RETRY_MS: '200',
    RELAY_POLL_INTERVAL_MS: '200',
    RELAY_RETRY_DELAY_MS: '100',
    SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
    REDIS_URL: servers.redisUrl,
    // own rate-limit counters per test gateway (pass REDIS_KEY_PREFIX to share them)
    REDIS_KEY_PREFIX: `${uniqueName(title)}:`,
    // tests poll the API a lot: only the rate-limit tests ask for the real default (1000/min)
    RATE_LIMIT_REST_REQUESTS: '1000000',
    ...options.env,
  });
  const gateway = new Gateway(config, options.log ?? silentLogger());
  await gateway.start();
  const ownsSchema = !options.schema;
  const ownsVhost = !options.vhost;
  const tenants = new TenantStore(gateway.pool, schema.schema);
  const createKey = async (tenantId: string, scopes: Scope[], name = 'test key') => {
    await tenants.ensure(tenantId, tenantId);
    return (await gateway.authenticator.keys.create(tenantId, name, scopes)).key;
  };
  const tenantId = options.tenantId ?? 'dev';
  const apiKey = await createKey(tenantId, [...SCOPES], 'test fixture key');
  return {
    gateway,
    url: `http://127.0.0.1:${gateway.port}`,
    schema,
    vhost,
    apiKey,
    tenantId,
    createKey,
    close: async () => {
      await gateway.stop();
      if (ownsSchema) await schema.drop();
      if (ownsVhost) await vhost.drop();
    },
  };
}
