import { createTestSchema, createTestVhost, eventually, webhookReceiver } from '@reten/testing';
import type { TestSchema, TestVhost, WebhookReceiver } from '@reten/testing';
import { api } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';

jest.setTimeout(90_000);

const TRACE_ID = '5bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

interface OtlpRequest {
  resourceSpans?: { scopeSpans?: { spans?: { name: string; traceId: string }[] }[] }[];
}

function spanNames(collector: WebhookReceiver, traceId: string): string[] {
  return collector
    .requestsTo('/v1/traces')
    .flatMap((r) =>
      ((JSON.parse(r.rawBody) as OtlpRequest).resourceSpans ?? []).flatMap((rs) =>
        (rs.scopeSpans ?? []).flatMap((ss) =>
          (ss.spans ?? []).filter((s) => s.traceId === traceId).map((s) => s.name),
        ),
      ),
    );
}

describe('span export from a gateway process', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let collector: WebhookReceiver;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    schema = await createTestSchema('e2e trace export');
    vhost = await createTestVhost('e2e trace export');
  });

  beforeEach(async () => {
    collector = await webhookReceiver();
  });

  afterEach(async () => {
    await gateway?.process.kill('SIGKILL');
    gateway = undefined;
    await collector.close();
  });

  afterAll(async () => {
    await schema?.drop();
    await vhost?.drop();
  });

  async function ingest(g: GatewayProcess): Promise<void> {
    const gw = { url: g.url, apiKey: await createApiKey(schema) };
    const res = await api(
      gw,
      'POST',
      '/v1.0/event/order.exported',
      { n: 1 },
      { headers: { traceparent: TRACEPARENT } },
    );
    expect(res.status).toBe(202);
  }

  it('flushes the spans still buffered on SIGTERM, within the drain bound', async () => {
    collector.respond({ status: 200, body: '{}', headers: { 'content-type': 'application/json' } });
    const g = await startGatewayProcess(schema, vhost, {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url(''),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // nothing leaves on its own during the test: only the shutdown flush can send it
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      SHUTDOWN_DRAIN_TIMEOUT_MS: '5000',
    });
    gateway = g;
    await ingest(g);
    expect(collector.requestsTo('/v1/traces')).toHaveLength(0);
    const started = Date.now();
    expect(await g.process.kill('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000 + 2000);
    expect(spanNames(collector, TRACE_ID)).toEqual(expect.arrayContaining(['ingest', 'commit']));
  });

  it('counts and logs exports the collector refuses, and keeps accepting events', async () => {
    collector.respond({ status: 400, body: '{}', headers: { 'content-type': 'application/json' } });
    const g = await startGatewayProcess(schema, vhost, {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url(''),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    gateway = g;
    await ingest(g);
    await eventually(async () => {
      const text = await (await fetch(`${g.url}/metrics`)).text();
      const m = /^reten_trace_export_failures_total\{[^}]*\} (\d+)/m.exec(text);
      expect(Number(m?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    });
    expect(g.process.output.join('')).toContain('trace export failed');
    await ingest(g);
  });
});
