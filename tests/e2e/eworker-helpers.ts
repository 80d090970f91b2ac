import { EworkerService, loadEworkerConfig } from '@reten/eworker';
import type { EworkerDefinition } from '@reten/eworker';
import { silentLogger } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';

/** An eworker in this process against the test's schema and vhost, consuming once returned. */
export async function startTestEworker(
  definition: EworkerDefinition,
  where: { schema: TestSchema; vhost: TestVhost },
  env: Record<string, string> = {},
): Promise<EworkerService> {
  const config = loadEworkerConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: where.schema.databaseUrl,
    DATABASE_SCHEMA: where.schema.schema,
    DATABASE_POOL_SIZE: '4',
    RABBITMQ_URL: where.vhost.url,
    MIGRATE_ON_START: 'false',
    EWORKER_RETRY_BASE_MS: '20',
    EWORKER_RETRY_MAX_MS: '100',
    EWORKER_MAX_ATTEMPTS: '3',
    SHUTDOWN_DRAIN_TIMEOUT_MS: '1000',
    ...env,
  });
  const service = new EworkerService(definition, config, silentLogger());
  await service.start();
  await service.waitForConsumer(10_000);
  return service;
}
