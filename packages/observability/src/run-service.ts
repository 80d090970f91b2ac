import { createLogger } from './logger';
import type { Logger } from './logger';
import type { Lifecycle } from './lifecycle';
import { startTracing } from './tracing';
import type { Tracing } from './tracing';

/** What a service process runs: built from config, started once, stopped on a signal. */
export interface RunnableService {
  readonly lifecycle: Lifecycle;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The `OTEL_*` keys of `tracingConfig` in `@reten/config`, for a service whose config has them. */
export interface TracingConfigKeys {
  OTEL_SERVICE_NAME?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_PROTOCOL?: 'http/protobuf' | 'http/json';
  OTEL_EXPORTER_OTLP_TIMEOUT?: number;
  OTEL_BSP_SCHEDULE_DELAY?: number;
  SHUTDOWN_DRAIN_TIMEOUT_MS?: number;
}

type ServiceConfig = { LOG_LEVEL: string } & TracingConfigKeys;

export interface RunServiceOptions<C extends ServiceConfig, S extends RunnableService> {
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
export async function runService<C extends ServiceConfig, S extends RunnableService>(
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
  const tracing = startServiceTracing(options.name, config, log);
  const service = options.create(config, log);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const since = Date.now();
    log.info({ signal }, 'shutting down');
    service
      .stop()
      .then(() => tracing.shutdown(flushBudgetMs(config, Date.now() - since)))
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

function startServiceTracing(name: string, config: TracingConfigKeys, log: Logger): Tracing {
  return startTracing({
    serviceName: config.OTEL_SERVICE_NAME || name,
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    protocol: config.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    exportTimeoutMs: config.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000,
    scheduleDelayMs: config.OTEL_BSP_SCHEDULE_DELAY ?? 5000,
    log,
  });
}

/**
 * How long the last spans may take to leave at shutdown: what is left of the drain bound after
 * the service stopped (at least a moment, so a quick stop still sends its spans), at most one
 * export timeout.
 */
function flushBudgetMs(config: TracingConfigKeys, elapsedMs: number): number {
  const drainLeft = (config.SHUTDOWN_DRAIN_TIMEOUT_MS ?? 10_000) - elapsedMs;
  return Math.min(config.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000, Math.max(250, drainLeft));
}
