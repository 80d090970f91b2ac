import type { Request } from 'express';
import {
  SPAN_NAMES,
  SpanKind,
  endSpan,
  startStageSpan,
  traceHeadersOf,
  tracingExports,
} from '@reten/observability';
import type { Span } from '@reten/observability';
import { requestPathOf } from '@reten/http';

/** The W3C Trace Context an event is stored and published with: its `ingest` span's. */
export interface IngestTrace {
  traceparent: string;
  tracestate?: string;
  /** The request's `ingest` span: the parent of its `commit` span. */
  span?: Span;
}

// version-traceid-parentid-flags, lower-case hex (https://www.w3.org/TR/trace-context/#traceparent-header)
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-|$)/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);
/** Tracestate is kept up to the length the spec asks every system to propagate. */
const TRACESTATE_MAX_LENGTH = 512;
const TRACESTATE = /^[\x20-\x7e]*$/;

/**
 * The trace context of an ingest request, as the spec reads it: an absent or invalid
 * `traceparent` is no trace (never a 4xx), and `tracestate` counts only beside a valid one.
 * Version 00 is exactly 55 characters; a later version may append fields after a `-`.
 */
export function parseTraceContext(
  traceparent: string | undefined,
  tracestate: string | undefined,
): IngestTrace | undefined {
  if (traceparent === undefined || traceparent.length < 55) return undefined;
  const m = TRACEPARENT.exec(traceparent);
  if (!m) return undefined;
  const version = m[1];
  if (version === 'ff' || (version === '00' && traceparent.length !== 55)) return undefined;
  if (m[2] === ZERO_TRACE_ID || m[3] === ZERO_PARENT_ID) return undefined;
  // a later version is read as far as version 00 defines it and passed on as version 00
  // (the spec's rule for a higher version), its extra fields dropped
  const parent = version === '00' ? traceparent : `00${traceparent.slice(2, 55)}`;
  const state = tracestate?.trim();
  return state && state.length <= TRACESTATE_MAX_LENGTH && TRACESTATE.test(state)
    ? { traceparent: parent, tracestate: state }
    : { traceparent: parent };
}

/**
 * The one place that decides the trace context stored with an event and carried on its
 * message: the context of the request's `ingest` span, a child of the request's own
 * `traceparent` / `tracestate` when valid, else the root of a new trace. Every later stage
 * (relay publish, eworker handle, delivery attempt) is a child of it. The span ends when the
 * answer has been sent (it is recorded only while spans are exported).
 */
export function ingestTraceOf(req: Request): IngestTrace {
  const traceparent = req.headers.traceparent;
  // node joins a repeated header into one string: two traceparents are invalid, as they should be
  const tracestate = req.headers.tracestate;
  const incoming =
    typeof traceparent === 'string'
      ? parseTraceContext(traceparent, typeof tracestate === 'string' ? tracestate : undefined)
      : undefined;
  const span = startStageSpan(
    SPAN_NAMES.ingest,
    incoming,
    tracingExports()
      ? {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': req.method, 'url.path': requestPathOf(req) },
        }
      : undefined,
  );
  const res = req.res;
  if (res && span.isRecording()) {
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      endSpan(span, res.statusCode >= 500 ? new Error(`HTTP ${res.statusCode}`) : undefined);
    });
  }
  const headers = traceHeadersOf(span);
  return headers.tracestate === undefined
    ? { traceparent: headers.traceparent, span }
    : { traceparent: headers.traceparent, tracestate: headers.tracestate, span };
}
