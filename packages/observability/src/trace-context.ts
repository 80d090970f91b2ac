import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  trace,
} from '@opentelemetry/api';
import type {
  Attributes,
  Context,
  Span,
  SpanContext,
  TraceState as TraceStateApi,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { hexByte, newSpanId, newTraceId, retenTracer, tracingExports } from './tracing';

/** The stage spans of an event's trace, from the producer's request to the subscriber's 2xx. */
export const SPAN_NAMES = {
  ingest: 'ingest',
  commit: 'commit',
  relayPublish: 'relay publish',
  eworkerHandle: 'eworker handle',
  deliveryAttempt: 'delivery attempt',
} as const;

export type SpanName = (typeof SPAN_NAMES)[keyof typeof SPAN_NAMES];

/** W3C trace context headers (https://www.w3.org/TR/trace-context/). */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/** The trace context of one span, as a handler or a status page shows it. */
export interface TraceInfo extends TraceHeaders {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
}

/** Where a span continues from: W3C headers (a missing or invalid traceparent starts a trace). */
export interface TraceParentInput {
  traceparent?: string | null | undefined;
  tracestate?: string | null | undefined;
}

// version-trace id-span id-flags; a future version may append fields after a dash
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * The span context of a W3C `traceparent` (and `tracestate`), or undefined when it is not a
 * valid one (version ff, version 00 with extra fields, an all-zero id, not lower-case hex).
 */
export function parseTraceHeaders(input: TraceParentInput | undefined): SpanContext | undefined {
  const header = input?.traceparent;
  if (!header || header.length > 512) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (!version || !traceId || !spanId || !flags) return undefined;
  if (version === 'ff' || (version === '00' && rest !== '')) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  const sc: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
  if (input.tracestate) sc.traceState = new LazyTraceState(input.tracestate);
  return sc;
}

/**
 * A `tracestate` parsed only when a vendor entry is read or changed: passed on unchanged (the
 * common case, every stage of every event) it costs nothing.
 */
class LazyTraceState implements TraceStateApi {
  private parsed: TraceStateApi | undefined;

  constructor(private readonly raw: string) {}

  private state(): TraceStateApi {
    this.parsed ??= new TraceState(this.raw);
    return this.parsed;
  }

  set(key: string, value: string): TraceStateApi {
    return this.state().set(key, value);
  }

  unset(key: string): TraceStateApi {
    return this.state().unset(key);
  }

  get(key: string): string | undefined {
    return this.state().get(key);
  }

  serialize(): string {
    return this.parsed ? this.parsed.serialize() : this.raw;
  }
}

/** The context of a remote parent given as W3C headers; the root context when it is invalid. */
export function contextFromHeaders(input: TraceParentInput | undefined): Context {
  const sc = parseTraceHeaders(input);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/** The `traceparent` of a span context: version 00, trace id, span id, flags. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${hexByte(sc.traceFlags)}`;
}

/** The W3C headers that make a receiver's spans children of `span`. */
export function traceHeadersOf(span: Span): TraceHeaders {
  const sc = span.spanContext();
  const tracestate = sc.traceState?.serialize();
  return tracestate
    ? { traceparent: formatTraceparent(sc), tracestate }
    : { traceparent: formatTraceparent(sc) };
}

/** Trace id, span id and W3C headers of `span`. */
export function traceInfoOf(span: Span): TraceInfo {
  const sc = span.spanContext();
  return { traceId: sc.traceId, spanId: sc.spanId, ...traceHeadersOf(span) };
}

/** The trace id of a `traceparent` header, or undefined when it is not a valid one. */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  return parseTraceHeaders({ traceparent })?.traceId;
}

export interface StageSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

/**
 * Starts a stage span, a child of `parent` (a context, or W3C headers; a new trace when there
 * is none). It always has a span id of its own, so what it passes on continues the trace. While
 * nothing is exported it is a non-recording span (ids only: no timing, no attributes kept),
 * which keeps tracing off the hot paths' CPU; with an exporter it is a recorded SDK span.
 */
export function startStageSpan(
  name: SpanName,
  parent: Context | TraceParentInput | undefined,
  options: StageSpanOptions = {},
): Span {
  const ctx = isContext(parent) ? parent : undefined;
  if (!tracingExports()) {
    // headers are validated by the parser; a context's span context is checked here
    const sc = ctx ? trace.getSpanContext(ctx) : parseTraceHeaders(parent as TraceParentInput);
    const valid = sc !== undefined && (ctx === undefined || trace.isSpanContextValid(sc));
    const child: SpanContext = {
      traceId: valid ? sc.traceId : newTraceId(),
      spanId: newSpanId(),
      // no sampler runs: a caller's decision is passed on, a new trace is sampled
      traceFlags: valid ? sc.traceFlags : TraceFlags.SAMPLED,
    };
    if (valid && sc.traceState) child.traceState = sc.traceState;
    return trace.wrapSpanContext(child);
  }
  return retenTracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    ctx ?? contextFromHeaders(parent as TraceParentInput),
  );
}

function isContext(value: Context | TraceParentInput | undefined): value is Context {
  return value !== undefined && typeof (value as Context).getValue === 'function';
}

/** The context whose active span is `span`: the parent of its children. */
export function contextWithSpan(span: Span): Context {
  return trace.setSpan(ROOT_CONTEXT, span);
}

/** Runs `fn` with `span` active, so `trace.getActiveSpan()` inside it returns `span`. */
export function runWithSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends `span`, marked as an error (with the error's message) when `err` is given. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: err instanceof Error ? err.message : 'failed',
    });
  }
  span.end();
}

export { SpanKind };
export type { Span, Context };
