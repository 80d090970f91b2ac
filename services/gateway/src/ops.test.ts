import SwaggerParser from '@apidevtools/swagger-parser';
import { TcpProxy, eventually, testServers } from '@reten/testing';
import { startTestGateway } from './test-fixture';
import type { TestGateway } from './test-fixture';
import { api, eventIdOf } from './test-api';

/** The parts of the OpenAPI document this test reads. */
interface OpenApiDocument {
  openapi: string;
  paths?: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
  components?: { schemas?: Record<string, unknown> };
}

describe('gateway ops routes and /openapi.json', () => {
  let gw: TestGateway;
  let proxy: TcpProxy;

  beforeAll(async () => {
    const rabbit = new URL((await testServers()).rabbitUrl);
    proxy = await TcpProxy.start(rabbit.hostname, Number(rabbit.port || 5672));
    gw = await startTestGateway('gateway ops', {
      rabbitUrl: (url) => proxy.proxiedUrl(url),
      env: { READY_REQUIRES_BROKER: 'true' },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await proxy?.close();
  });

  it('/openapi.json is a valid OpenAPI 3.1 document with the ingest and events paths', async () => {
    const res = await api(gw, 'GET', '/openapi.json', undefined, { auth: null });
    expect(res.status).toBe(200);
    const doc = res.body as OpenApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    // validates against the OpenAPI 3.1 JSON schema and resolves every $ref
    await SwaggerParser.validate(
      structuredClone(res.body) as Parameters<typeof SwaggerParser.validate>[0],
    );
    expect(Object.keys(doc.paths ?? {})).toEqual(
      expect.arrayContaining([
        '/v1.0/event/{type}',
        '/api/v1/events',
        '/api/v1/events/{id}',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    expect(doc.paths?.['/api/v1/events']?.get?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'limit', in: 'query' })]),
    );
    expect(doc.components?.schemas).toHaveProperty('EventEnvelope');
  });

  it('/healthz answers 200 while the process runs', async () => {
    const res = await api(gw, 'GET', '/healthz', undefined, { auth: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', state: 'running' });
  });

  it('/readyz answers 200 when PostgreSQL and RabbitMQ answer, 503 while the broker is cut', async () => {
    await eventually(async () => {
      const ready = await api(gw, 'GET', '/readyz', undefined, { auth: null });
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'ready',
        checks: { postgres: { ok: true }, rabbitmq: { ok: true } },
      });
    });
    proxy.cut();
    try {
      await eventually(async () => {
        const unready = await api(gw, 'GET', '/readyz', undefined, { auth: null });
        expect(unready.status).toBe(503);
        expect(unready.body).toMatchObject({
          status: 'unready',
          checks: { rabbitmq: { ok: false } },
        });
      });
      // ingest itself does not depend on the broker
      expect((await api(gw, 'POST', '/v1.0/event/ops.test', { during: 'cut' })).status).toBe(202);
    } finally {
      proxy.restore();
    }
    await eventually(
      async () =>
        expect((await api(gw, 'GET', '/readyz', undefined, { auth: null })).status).toBe(200),
      { timeoutMs: 20_000 },
    );
  });

  it('/metrics has request durations by route and status, events accepted, outbox backlog and relay latency', async () => {
    const id = eventIdOf(await api(gw, 'POST', '/v1.0/event/ops.metrics', { a: 1 }));
    await api(gw, 'GET', `/api/v1/events/${id}`);
    await api(gw, 'GET', '/api/v1/events?limit=1000');
    await eventually(
      async () => {
        const backlog = await gw.schema.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM outbox',
        );
        expect(backlog.rows[0]!.n).toBe(0);
      },
      { timeoutMs: 20_000 },
    );

    const res = await api(gw, 'GET', '/metrics', undefined, { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = res.text;
    expect(text).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/v1\.0\/event\/:type"[^}]*status="202"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/events"[^}]*status="422"/,
    );
    expect(text).toMatch(/reten_events_accepted_total\{[^}]*api="evci"[^}]*\} [1-9]/);
    expect(text).toMatch(/^reten_outbox_backlog\{[^}]*\} 0$/m);
    expect(text).toMatch(/reten_relay_publish_latency_seconds_count\{[^}]*\} [1-9]/);
    // the lag histogram reaches an hour, for a backlog after a long broker outage
    expect(text).toMatch(/reten_event_publish_lag_seconds_count\{[^}]*\} [1-9]/);
    expect(text).toMatch(/reten_event_publish_lag_seconds_bucket\{le="3600"[^}]*\} [1-9]/);
    expect(text).toMatch(/^reten_relay_active\{[^}]*\} 1$/m);
  });
});
