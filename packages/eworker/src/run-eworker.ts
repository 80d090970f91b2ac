import type { ConfigShape } from '@reten/config';
import { runService } from '@reten/observability';
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
  return runService({
    name: `eworker-${definition.name}`,
    loadConfig: () => loadEworkerConfig(options.env ?? process.env, options.configShape),
    create: (config, log) => new EworkerService(definition, config, log),
  });
}
