export { REDACTED_PATHS, createLogger, redactUrl } from './logger';
export type { Logger, LoggerOptions } from './logger';
export {
  Counter,
  Gauge,
  Histogram,
  LAG_BUCKETS_SECONDS,
  Registry,
  createMetricsRegistry,
  lagSeconds,
} from './metrics';
export { Lifecycle } from './lifecycle';
export type { LifecycleState } from './lifecycle';
export { checkReadiness, stateCheck } from './health';
export type { ReadinessCheck, ReadinessReport } from './health';
export { runService } from './run-service';
export type { RunServiceOptions, RunnableService } from './run-service';
export { retenTracer, startTracing, traceExportFailures, tracingExports } from './tracing';
export type { Tracing, TracingOptions } from './tracing';
export {
  SPAN_NAMES,
  SpanKind,
  contextFromHeaders,
  contextWithSpan,
  endSpan,
  formatTraceparent,
  parseTraceHeaders,
  runWithSpan,
  startStageSpan,
  traceHeadersOf,
  traceIdOf,
  traceInfoOf,
} from './trace-context';
export type {
  Context,
  Span,
  SpanName,
  StageSpanOptions,
  TraceHeaders,
  TraceInfo,
  TraceParentInput,
} from './trace-context';
