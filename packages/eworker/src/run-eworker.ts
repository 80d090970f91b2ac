import { ConfigError } from '@reten/config';
import type { ConfigShape } from '@reten/config';
import { createLogger } from '@reten/observability';
import { loadEworkerConfig } from './config';
import type { EworkerDefinition } from './define-eworker';
import { EworkerService } from './eworker-service';

export interface RunEworkerOptions {
  /** The service's config shape (a superset of `eworkerConfigShape`). */
  configShape?: ConfigShape;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs an eworker as a process: config from the environment, pino logs, migrations,
 * registration, the in-order consumer, `/healthz` `/readyz` `/metrics`, graceful SIGTERM.
 */
export async function runEworker(
  definition: EworkerDefinition,
  options: RunEworkerOptions = {},
): Promise<EworkerService> {
  let config;
  try {
    config = loadEworkerConfig(options.env ?? process.env, options.configShape);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`eworker ${definition.name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ service: `eworker-${definition.name}`, level: config.LOG_LEVEL });
  const service = new EworkerService(definition, config, log);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    service
      .stop()
      .then(() => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        log.flush();
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await service.start();
  } catch (err) {
    service.lifecycle.transition('failed');
    log.fatal({ err }, 'eworker failed to start');
    log.flush();
    process.exit(1);
  }
  return service;
}
