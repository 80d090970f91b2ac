import { trace } from '@opentelemetry/api';
import {
  SPAN_NAMES,
  contextWithSpan,
  parseTraceHeaders,
  runWithSpan,
  startStageSpan,
  traceHeadersOf,
  traceIdOf,
  traceInfoOf,
  tracingExports,
} from './index';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

describe('W3C trace context without an exporter', () => {
  it('parses a valid traceparent and its tracestate', () => {
    const sc = parseTraceHeaders({ traceparent: PARENT, tracestate: 'vendor=abc,other=1' });
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: 1 });
    expect(sc?.traceState?.get('vendor')).toBe('abc');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['version ff', `ff-${TRACE_ID}-b7ad6b7169203331-01`],
    ['version 00 with extra fields', `${PARENT}-extra`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-b7ad6b7169203331-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-b7ad6b7169203331-01`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-b7ad6b7169203331-01`],
  ])('refuses a traceparent that is %s', (_what, traceparent) => {
    expect(parseTraceHeaders({ traceparent })).toBeUndefined();
    expect(traceIdOf(traceparent)).toBeUndefined();
  });

  it('accepts a later version with more fields', () => {
    expect(traceIdOf(`01-${TRACE_ID}-b7ad6b7169203331-01-more`)).toBe(TRACE_ID);
  });

  it('gives a stage span the caller trace id, a new span id and the caller sampling flag', () => {
    expect(tracingExports()).toBe(false);
    const span = startStageSpan(SPAN_NAMES.ingest, { traceparent: PARENT, tracestate: 'v=1' });
    const info = traceInfoOf(span);
    expect(info.traceId).toBe(TRACE_ID);
    expect(info.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(info.spanId).not.toBe('b7ad6b7169203331');
    expect(info.traceparent).toBe(`00-${TRACE_ID}-${info.spanId}-01`);
    expect(info.tracestate).toBe('v=1');
    const unsampled = startStageSpan(SPAN_NAMES.ingest, {
      traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00`,
    });
    expect(traceHeadersOf(unsampled).traceparent).toMatch(/-00$/);
  });

  it('starts a new sampled trace when there is no valid parent', () => {
    const a = traceInfoOf(startStageSpan(SPAN_NAMES.ingest, { traceparent: 'garbage' }));
    const b = traceInfoOf(startStageSpan(SPAN_NAMES.ingest, undefined));
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.traceId).not.toBe(b.traceId);
    expect(a.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('makes children of a span from its context, and makes it the active span', () => {
    const parent = startStageSpan(SPAN_NAMES.ingest, { traceparent: PARENT });
    const child = startStageSpan(SPAN_NAMES.commit, contextWithSpan(parent));
    expect(child.spanContext().traceId).toBe(TRACE_ID);
    expect(child.spanContext().spanId).not.toBe(parent.spanContext().spanId);
    const active = runWithSpan(child, () => trace.getActiveSpan());
    expect(active?.spanContext().spanId).toBe(child.spanContext().spanId);
  });

  it('keeps the active span across awaits inside runWithSpan', async () => {
    const span = startStageSpan(SPAN_NAMES.eworkerHandle, { traceparent: PARENT });
    const seen = await runWithSpan(span, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return trace.getActiveSpan()?.spanContext().spanId;
    });
    expect(seen).toBe(span.spanContext().spanId);
  });
});
