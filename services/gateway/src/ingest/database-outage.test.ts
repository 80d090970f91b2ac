import { TcpProxy, createTestSchema, eventually } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

describe('ingest with PostgreSQL unreachable', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let gw: TestGateway;

  beforeAll(async () => {
    schema = await createTestSchema('database outage');
    const pg = new URL(schema.databaseUrl);
    proxy = await TcpProxy.start(pg.hostname, Number(pg.port || 5432));
    // the gateway reaches PostgreSQL only through the proxy; the test reads it directly
    const proxied = { ...schema, databaseUrl: proxy.proxiedUrl(schema.databaseUrl) };
    gw = await startTestGateway('database outage', { schema: proxied });
  });

  afterAll(async () => {
    await gw?.close();
    await proxy?.close();
    await schema?.drop();
  });

  it('never answers 202 while the database is cut, answers with the error envelope, and stores again once it is back', async () => {
    const before = eventIdOf(await api(gw, 'POST', '/v1.0/event/db.outage', { n: 0 }));
    proxy.cut();
    const during = await api(gw, 'POST', '/v1.0/event/db.outage', { n: 1 });
    // never a 202 without a commit; the writer's own answer is 503 service_unavailable
    // (event-writer.test.ts), though authentication may fail first on its key lookup
    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(during.body).toMatchObject({ error: { status: during.status } });
    expect((await api(gw, 'GET', '/readyz', undefined, { auth: null })).status).toBe(503);

    proxy.restore();
    const after = await eventually(
      async () => {
        const res = await api(gw, 'POST', '/v1.0/event/db.outage', { n: 2 });
        expect(res.status).toBe(202);
        return eventIdOf(res);
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const stored = await schema.pool.query<{ event_id: string }>(
      `SELECT event_id FROM events WHERE event_type = 'db.outage' ORDER BY seq`,
    );
    expect(stored.rows.map((r) => r.event_id)).toEqual([before, after]);
  });
});
