import { ConfigError, loadConfig, logConfig, postgresConfig } from '@reten/config';
import { createLogger } from '@reten/observability';
import { runMigrations } from './migrate';
import { retentionPartitionConfig } from './retention/retention-config';

/** `pnpm migrate`: applies pending migrations and exits. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ ...logConfig, ...postgresConfig, ...retentionPartitionConfig });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ service: 'migrate', level: config.LOG_LEVEL });
  try {
    await runMigrations({
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      log,
      partitionSeconds: config.RETENTION_PARTITION_SECONDS,
    });
    log.flush();
  } catch (err) {
    log.fatal({ err }, 'migrations failed');
    log.flush();
    process.exitCode = 1;
  }
}

void main();
