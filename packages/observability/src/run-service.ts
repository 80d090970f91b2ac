import { createLogger } from './logger';
import type { Logger } from './logger';
import type { Lifecycle } from './lifecycle';

/** What a service process runs: built from config, started once, stopped on a signal. */
export interface RunnableService {
  readonly lifecycle: Lifecycle;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RunServiceOptions<C extends { LOG_LEVEL: string }, S extends RunnableService> {
  /** Service name: the `service` field of every log line and the prefix of config errors. */
  name: string;
  /** Parses the environment; a thrown `ConfigError` exits 2 with its message. */
  loadConfig: () => C;
  /** Builds the service graph (the composition root's only job). */
  create: (config: C, log: Logger) => S;
  /** Runs once the logger exists, before the service is built (start-up warnings). */
  onConfig?: (config: C, log: Logger) => void;
}

/** Recognised by name, not instanceof, so copies of @reten/config in other trees count too. */
function isConfigError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ConfigError';
}

/**
 * Runs a service as a process: config (exit 2 naming the bad variables), pino logger, start
 * (exit 1 when it fails), graceful stop on SIGTERM/SIGINT (exit 0, or 1 if stopping fails).
 */
export async function runService<C extends { LOG_LEVEL: string }, S extends RunnableService>(
  options: RunServiceOptions<C, S>,
): Promise<S> {
  let config: C;
  try {
    config = options.loadConfig();
  } catch (err) {
    if (isConfigError(err)) {
      process.stderr.write(`${options.name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ service: options.name, level: config.LOG_LEVEL });
  options.onConfig?.(config, log);
  const service = options.create(config, log);
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
    log.fatal({ err }, 'service failed to start');
    log.flush();
    process.exit(1);
  }
  return service;
}
