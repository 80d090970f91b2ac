import { ServiceProcess, freePort } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';

/**
 * Starts an eworker script (a user's eworker on the built SDK, `tsc -b` first) as a process on a
 * free port against the test's schema and vhost; resolves once its `/readyz` answers.
 */
export async function startEworkerProcess(
  script: string,
  target: { schema: Pick<TestSchema, 'databaseUrl' | 'schema'>; vhost: Pick<TestVhost, 'url'> },
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  return ServiceProcess.start({
    script,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: target.schema.databaseUrl,
      DATABASE_SCHEMA: target.schema.schema,
      DATABASE_POOL_SIZE: '3',
      RABBITMQ_URL: target.vhost.url,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'warn',
      ...env,
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
}
