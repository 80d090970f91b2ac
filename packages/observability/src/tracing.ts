import { context, propagation, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger } from './logger';

/** How a process traces: the `OTEL_*` keys of `tracingConfig` in `@reten/config`, resolved. */
export interface TracingOptions {
  /** The `service.name` resource attribute (`OTEL_SERVICE_NAME`, else the service's name). */
  serviceName: string;
  /**
   * OTLP/HTTP base URL of a collector; spans are sent to `<endpoint>/v1/traces`. Empty or
   * undefined: no exporter, spans only carry the trace context on.
   */
  endpoint?: string | undefined;
  protocol?: 'http/protobuf' | 'http/json';
  /** Bound of one export request (and of the flush at shutdown). */
  exportTimeoutMs?: number;
  /** How long finished spans wait to be sent in one batch. */
  scheduleDelayMs?: number;
  /** Where export failures are logged (at most one line a minute). */
  log?: Logger;
}

/** The tracing of a process, as `startTracing` set it up. */
export interface Tracing {
  /** True when spans are exported to an OTLP endpoint. */
  readonly exporting: boolean;
  /** Sends the spans still buffered and stops; bounded by `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
}

const TRACER_NAME = 'reten';
const EXPORT_ERROR_LOG_INTERVAL_MS = 60_000;

interface Installed {
  provider: TracerProvider;
  tracer: Tracer;
  /** Spans go to an exporter: stage spans are recorded, not only given ids. */
  exporting: boolean;
}

let installed: Installed | undefined;
let exportFailures = 0;

/** Export errors seen since the process started (`reten_trace_export_failures_total`). */
export function traceExportFailures(): number {
  return exportFailures;
}

/**
 * Makes `provider` the process's tracer provider, with the W3C propagator and an
 * AsyncLocalStorage context manager (so `trace.getActiveSpan()` works in handlers).
 */
function install(provider: TracerProvider, exporting: boolean): Installed {
  if (installed) {
    // a later start (a test, or startTracing after a span was made): replace the provider
    trace.disable();
  } else {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  trace.setGlobalTracerProvider(provider);
  // Reten's own spans use this tracer directly: it stays an SDK tracer (span ids are made, so
  // the trace context carries on) even if something else claimed the global provider first
  installed = { provider, tracer: provider.getTracer(TRACER_NAME), exporting };
  return installed;
}

/**
 * The tracer of Reten's stage spans. Before `startTracing` it is an SDK tracer without
 * exporter: spans get ids and continue the trace, and cost no more than their creation.
 */
export function retenTracer(): Tracer {
  return current().tracer;
}

/**
 * True once `startTracing` set up an exporter: stage spans are then recorded. (The first call
 * installs the context manager and propagator, so handlers see their active span.)
 */
export function tracingExports(): boolean {
  return current().exporting;
}

function current(): Installed {
  return installed ?? install(new TracerProvider({ idGenerator }), false);
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Two lower-case hex digits of a byte. */
export function hexByte(n: number): string {
  return HEX_BYTE[n & 0xff]!;
}

/** 8 random lower-case hex digits (a table lookup: Number#toString(16) is slow). */
function hex8(): string {
  const n = (Math.random() * 0x100000000) >>> 0;
  return (
    HEX_BYTE[n >>> 24]! +
    HEX_BYTE[(n >>> 16) & 0xff]! +
    HEX_BYTE[(n >>> 8) & 0xff]! +
    HEX_BYTE[n & 0xff]!
  );
}

/**
 * A new random span id (16 hex digits, never all zero). Built from Math.random like the SDK's
 * own generator, without its Buffer round trip: this runs for every ingest request.
 */
export function newSpanId(): string {
  const id = hex8() + hex8();
  return id === '0000000000000000' ? '0000000000000001' : id;
}

/** A new random trace id (32 hex digits, never all zero). */
export function newTraceId(): string {
  const id = hex8() + hex8() + hex8() + hex8();
  return id === '00000000000000000000000000000000' ? '00000000000000000000000000000001' : id;
}

/** The SDK's id generator, on the same functions. */
const idGenerator = { generateTraceId: newTraceId, generateSpanId: newSpanId };

function exporterProcessor(options: TracingOptions, endpoint: string): SpanProcessor {
  const timeoutMillis = options.exportTimeoutMs ?? 10_000;
  const config = { url: `${endpoint.replace(/\/+$/, '')}/v1/traces`, timeoutMillis };
  const exporter =
    options.protocol === 'http/json'
      ? new OTLPJsonTraceExporter(config)
      : new OTLPProtoTraceExporter(config);
  return new BatchSpanProcessor({
    exporter,
    scheduledDelayMillis: options.scheduleDelayMs ?? 5000,
    exportTimeoutMillis: timeoutMillis,
    // bounded: when the collector is slow or away, spans beyond this are dropped
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
  });
}

/**
 * Sets up OpenTelemetry tracing for this process: an SDK tracer provider named after the
 * service, exporting over OTLP/HTTP only when an endpoint is given. Call it once from the
 * composition root, before the service is built; `shutdown` flushes at exit.
 */
export function startTracing(options: TracingOptions): Tracing {
  const endpoint = options.endpoint === '' ? undefined : options.endpoint;
  const processors = endpoint ? [exporterProcessor(options, endpoint)] : [];
  let lastLogged = 0;
  setGlobalErrorHandler((err) => {
    exportFailures += 1;
    const now = Date.now();
    if (now - lastLogged < EXPORT_ERROR_LOG_INTERVAL_MS) return;
    lastLogged = now;
    options.log?.warn({ err }, 'trace export failed');
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: processors,
    idGenerator,
  });
  install(provider, processors.length > 0);
  let stopped: Promise<void> | undefined;
  return {
    exporting: processors.length > 0,
    shutdown: (timeoutMs) => {
      stopped ??= boundedShutdown(provider, timeoutMs);
      return stopped;
    },
  };
}

async function boundedShutdown(provider: TracerProvider, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    // the spans still buffered are lost when the collector does not answer in time
    await Promise.race([provider.shutdown().catch(() => undefined), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
