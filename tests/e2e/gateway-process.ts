import path from 'node:path';
import { SCOPES } from '@reten/contracts';
import { ApiKeyStore, TenantStore } from '@reten/auth';
import { ServiceProcess, TEST_JWT_SECRET, freePort } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';

/** The compiled gateway: end-to-end tests need `tsc -b` first. */
export const GATEWAY_MAIN = path.resolve(__dirname, '../../services/gateway/dist/main.js');

/** A tenant and an all-scopes API key in the test schema, for a gateway process to accept. */
export async function createApiKey(schema: TestSchema, tenantId = 'dev'): Promise<string> {
  await new TenantStore(schema.pool, schema.schema).ensure(tenantId, tenantId);
  const created = await new ApiKeyStore(schema.pool, schema.schema).create(tenantId, 'e2e', [
    ...SCOPES,
  ]);
  return created.key;
}

export interface GatewayProcess {
  process: ServiceProcess;
  url: string;
}

/** Starts `services/gateway/dist/main.js` on a free port against the test's schema and vhost. */
export async function startGatewayProcess(
  schema: TestSchema,
  vhost: TestVhost,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const proc = await ServiceProcess.start({
    script: GATEWAY_MAIN,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: schema.databaseUrl,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '10',
      RABBITMQ_URL: vhost.url,
      RELAY_LOCK_RETRY_MS: '200',
      RELAY_POLL_INTERVAL_MS: '200',
      // tests poll the API: the REST default (1000/min per key) is for production traffic
      RATE_LIMIT_REST_REQUESTS: '1000000',
      ...env,
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    readyTimeoutMs: 30_000,
  });
  return { process: proc, url: `http://127.0.0.1:${port}` };
}
