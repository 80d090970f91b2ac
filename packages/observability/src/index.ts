export { REDACTED_PATHS, createLogger, redactUrl } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { Counter, Gauge, Histogram, Registry, createMetricsRegistry } from './metrics';
export { Lifecycle } from './lifecycle';
export type { LifecycleState } from './lifecycle';
export { checkReadiness, stateCheck } from './health';
export type { ReadinessCheck, ReadinessReport } from './health';
export { runService } from './run-service';
export type { RunServiceOptions, RunnableService } from './run-service';
