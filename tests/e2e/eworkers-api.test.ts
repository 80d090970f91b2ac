import { z } from 'zod';
import { defineEworker, registerEworker } from '@reten/eworker';
import { startTestEworker } from '@reten/eworker/testing';
import type { EworkerService } from '@reten/eworker';
import { eventually } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { api, eventIdOf } from '../../services/gateway/src/test-api';

jest.setTimeout(60_000);

const OrderSchema = z.object({
  order_id: z.string().min(1),
  items: z.array(z.object({ sku: z.string(), qty: z.number().int().min(1) })).min(1),
});

let gw: TestGateway;
let otherTenantKey: string;

beforeAll(async () => {
  // a long poll: a refresh seen quickly can only come from NOTIFY
  gw = await startTestGateway('eworkers api', {
    tenantId: 'acme',
    env: { EVENT_SCHEMA_POLL_INTERVAL_MS: '600000' },
  });
  otherTenantKey = await gw.createKey('globex', ['events:read', 'events:write', 'admin']);
});

afterAll(async () => {
  await gw?.close();
});

async function countEvents(type: string): Promise<number> {
  const res = await gw.schema.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM events WHERE event_type = $1',
    [type],
  );
  return res.rows[0]?.n ?? 0;
}

describe('schema validation at the gateway', () => {
  beforeAll(async () => {
    await registerEworker(gw.schema.pool, gw.schema.schema, {
      name: 'orders',
      types: ['order.created'],
      schema: OrderSchema,
    });
    await eventually(async () => {
      const res = await api(gw, 'POST', '/v1.0/event/order.created', {});
      expect(res.status).toBe(422);
    });
  });

  it('answers 422 validation_failed with the failing path for an invalid EVCI event, storing nothing', async () => {
    const before = await countEvents('order.created');
    const res = await api(gw, 'POST', '/v1.0/event/order.created', {
      order_id: 'o1',
      items: [{ sku: 'a', qty: 0 }],
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: {
        code: 'validation_failed',
        status: 422,
        details: [{ path: 'body.items.0.qty', message: expect.any(String) as unknown }],
      },
    });
    expect(await countEvents('order.created')).toBe(before);
  });

  it('names a missing required property by its own path', async () => {
    const res = await api(gw, 'POST', '/v1.0/event/order.created', { items: [] });
    expect(res.status).toBe(422);
    const paths = (res.body as { error: { details: { path: string }[] } }).error.details.map(
      (d) => d.path,
    );
    expect(paths).toEqual(expect.arrayContaining(['body.order_id', 'body.items']));
  });

  it('validates POST /api/v1/events data under body.data', async () => {
    const res = await api(gw, 'POST', '/api/v1/events', {
      event_type: 'order.created',
      data: { order_id: 'o1', items: [{ sku: 7, qty: 1 }] },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: { code: 'validation_failed', details: [{ path: 'body.data.items.0.sku' }] },
    });
  });

  it('validates a PUT revision before storing it', async () => {
    const id = eventIdOf(
      await api(gw, 'POST', '/v1.0/event/order.created', {
        order_id: 'o2',
        items: [{ sku: 'a', qty: 1 }],
      }),
    );
    const res = await api(gw, 'PUT', `/api/v1/events/${id}`, { data: { order_id: 'o2' } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { details: [{ path: 'body.data.items' }] } });
    const revisions = await gw.schema.pool.query(
      'SELECT revision FROM events WHERE event_id = $1',
      [id],
    );
    expect(revisions.rows).toEqual([{ revision: 1 }]);
    const ok = await api(gw, 'PUT', `/api/v1/events/${id}`, {
      data: { order_id: 'o2', items: [{ sku: 'b', qty: 2 }] },
    });
    expect(ok.status).toBe(200);
  });

  it('shows a registered eworker that has not processed an event yet as pending', async () => {
    const id = eventIdOf(
      await api(gw, 'POST', '/v1.0/event/order.created', {
        order_id: 'o9',
        items: [{ sku: 'a', qty: 1 }],
        currency: 'EUR',
      }),
    );
    const res = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(res.status).toBe(200);
    expect((res.body as { eworkers: unknown }).eworkers).toEqual([
      {
        eworker: 'orders',
        revision: 1,
        status: 'pending',
        attempts: 0,
        last_error: null,
        updated_at: null,
      },
    ]);
  });

  it('accepts any JSON for a type no eworker registered', async () => {
    const res = await api(gw, 'POST', '/v1.0/event/order.unregistered', { anything: [1, 'x'] });
    expect(res.status).toBe(202);
  });

  it('applies a changed registration without a gateway restart', async () => {
    const old = { order_id: 'o3', items: [{ sku: 'a', qty: 1 }] };
    expect((await api(gw, 'POST', '/v1.0/event/order.created', old)).status).toBe(202);
    await registerEworker(gw.schema.pool, gw.schema.schema, {
      name: 'orders',
      types: ['order.created'],
      schema: OrderSchema.extend({ currency: z.enum(['EUR', 'USD']) }),
    });
    await eventually(
      async () => {
        const res = await api(gw, 'POST', '/v1.0/event/order.created', old);
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ error: { details: [{ path: 'body.currency' }] } });
      },
      { timeoutMs: 5000 },
    );
    const res = await api(gw, 'POST', '/v1.0/event/order.created', { ...old, currency: 'EUR' });
    expect(res.status).toBe(202);
    const type = await api(gw, 'GET', '/api/v1/event-types/order.created');
    expect(type.body).toMatchObject({
      eworkers: ['orders'],
      registrations: [{ eworker: 'orders', version: 2 }],
      json_schema: { required: expect.arrayContaining(['currency']) as unknown },
    });
  });

  it('lists registered types with their JSON Schema and the caller’s counts', async () => {
    const res = await api(gw, 'GET', '/api/v1/event-types');
    expect(res.status).toBe(200);
    const data = (res.body as { data: { event_type: string; counts: { events: number } }[] }).data;
    const created = data.find((t) => t.event_type === 'order.created');
    expect(created).toMatchObject({
      eworkers: ['orders'],
      json_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' },
    });
    expect(created?.counts.events).toBeGreaterThanOrEqual(3);
    expect(data.find((t) => t.event_type === 'order.unregistered')).toMatchObject({
      eworkers: [],
      json_schema: null,
      counts: { events: 1 },
    });
    const other = await api(gw, 'GET', '/api/v1/event-types/order.created', undefined, {
      auth: otherTenantKey,
    });
    expect(other.body).toMatchObject({ counts: { events: 0, processed: 0, failed: 0 } });
    const missing = await api(gw, 'GET', '/api/v1/event-types/never.seen');
    expect(missing.status).toBe(404);
  });
});

describe('eworker status, parked events and replay through the API', () => {
  const TYPE = 'invoice.issued';
  let broken = true;
  let eworker: EworkerService;

  beforeAll(async () => {
    await gw.schema.pool.query('CREATE TABLE invoices_seen (n int, tenant_id text)');
    eworker = await startTestEworker(
      defineEworker({
        name: 'invoices',
        types: [TYPE],
        schema: z.object({ n: z.number().int() }),
        handle: async (event, ctx) => {
          if (broken && event.data.n % 2 === 0) throw new Error(`cannot handle ${event.data.n}`);
          await ctx.db.query('INSERT INTO invoices_seen (n, tenant_id) VALUES ($1, $2)', [
            event.data.n,
            event.tenantId,
          ]);
        },
      }),
      {
        databaseUrl: gw.schema.databaseUrl,
        schema: gw.schema.schema,
        rabbitUrl: gw.vhost.url,
      },
    );
  });

  afterAll(async () => {
    await eworker?.stop();
  });

  async function seen(): Promise<number[]> {
    const res = await gw.schema.pool.query<{ n: number }>('SELECT n FROM invoices_seen');
    return res.rows.map((r) => r.n);
  }

  it('shows processed, failed and parked per eworker, processing status per event, and replays parked events in order', async () => {
    const ids: string[] = [];
    for (let n = 1; n <= 6; n += 1) {
      ids.push(eventIdOf(await api(gw, 'POST', `/v1.0/event/${TYPE}`, { n })));
    }
    await eventually(async () => expect(await seen()).toEqual([1, 3, 5]), { timeoutMs: 15_000 });

    const list = await eventually(async () => {
      const res = await api(gw, 'GET', '/api/v1/eworkers');
      const invoices = (res.body as { data: { name: string; parked: number }[] }).data.find(
        (w) => w.name === 'invoices',
      );
      expect(invoices?.parked).toBe(3);
      return invoices;
    });
    expect(list).toMatchObject({
      types: [TYPE],
      queue: 'reten.eworker.invoices',
      consumers: 1,
      queue_depth: 0,
      processed: 3,
      failed: 3,
      parked: 3,
      last_processed_at: expect.any(String) as unknown,
    });
    const typeCounts = await api(gw, 'GET', `/api/v1/event-types/${TYPE}`);
    expect(typeCounts.body).toMatchObject({ counts: { events: 6, processed: 3, failed: 3 } });

    const failedDetail = await api(gw, 'GET', `/api/v1/events/${ids[1]}`);
    expect(failedDetail.body).toMatchObject({
      eworkers: [
        {
          eworker: 'invoices',
          revision: 1,
          status: 'failed',
          attempts: 3,
          last_error: 'Error: cannot handle 2',
        },
      ],
    });
    const okDetail = await api(gw, 'GET', `/api/v1/events/${ids[0]}`);
    expect(okDetail.body).toMatchObject({
      eworkers: [{ eworker: 'invoices', status: 'processed', attempts: 1, last_error: null }],
    });

    // another tenant sees none of acme's parked events and replays none of them
    const otherList = await api(gw, 'GET', '/api/v1/eworkers', undefined, {
      auth: otherTenantKey,
    });
    expect(
      (otherList.body as { data: { name: string }[] }).data.find((w) => w.name === 'invoices'),
    ).toMatchObject({ processed: 0, failed: 0, parked: 0 });
    const otherReplay = await api(
      gw,
      'POST',
      '/api/v1/eworkers/invoices/parked/replay',
      {},
      {
        auth: otherTenantKey,
      },
    );
    expect(otherReplay.body).toEqual({ replayed: 0, event_ids: [] });

    const parked = await api(gw, 'GET', '/api/v1/eworkers/invoices/parked?limit=2');
    expect(parked.status).toBe(200);
    expect(parked.body).toEqual({
      data: [
        {
          event_id: ids[1],
          revision: 1,
          event_type: TYPE,
          status: 'failed',
          attempts: 3,
          last_error: 'Error: cannot handle 2',
          updated_at: expect.any(String) as unknown,
        },
        expect.objectContaining({ event_id: ids[3] }) as unknown,
      ],
    });
    const otherParked = await api(gw, 'GET', '/api/v1/eworkers/invoices/parked', undefined, {
      auth: otherTenantKey,
    });
    expect(otherParked.body).toEqual({ data: [] });

    broken = false;
    const replay = await api(gw, 'POST', '/api/v1/eworkers/invoices/parked/replay', {});
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ replayed: 3, event_ids: [ids[1], ids[3], ids[5]] });
    await eventually(async () => expect(await seen()).toEqual([1, 3, 5, 2, 4, 6]), {
      timeoutMs: 15_000,
    });
    const after = await api(gw, 'GET', '/api/v1/eworkers');
    expect(
      (after.body as { data: { name: string }[] }).data.find((w) => w.name === 'invoices'),
    ).toMatchObject({ processed: 6, failed: 3, parked: 0 });
    // the lag histogram counts the three handled on arrival, not the replayed ones
    expect(await eworker.registry.metrics()).toMatch(
      /^reten_eworker_process_lag_seconds_count\{[^}]*eworker="invoices"[^}]*\} 3$/m,
    );
    const typeAfter = await api(gw, 'GET', `/api/v1/event-types/${TYPE}`);
    expect(typeAfter.body).toMatchObject({ counts: { events: 6, processed: 6, failed: 0 } });
    const replayedDetail = await api(gw, 'GET', `/api/v1/events/${ids[1]}`);
    expect(replayedDetail.body).toMatchObject({
      eworkers: [{ eworker: 'invoices', status: 'processed', attempts: 4 }],
    });
    expect((await api(gw, 'GET', '/api/v1/eworkers/invoices/parked')).body).toEqual({ data: [] });
    const again = await api(gw, 'POST', '/api/v1/eworkers/invoices/parked/replay', {});
    expect(again.body).toEqual({ replayed: 0, event_ids: [] });
  });

  it('documents the event-types and eworkers routes in /openapi.json', async () => {
    const res = await api(gw, 'GET', '/openapi.json', undefined, { auth: null });
    expect(Object.keys((res.body as { paths: object }).paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/event-types',
        '/api/v1/event-types/{type}',
        '/api/v1/eworkers',
        '/api/v1/eworkers/{name}/parked',
        '/api/v1/eworkers/{name}/parked/replay',
      ]),
    );
  });

  it('answers 404 for the replay of an unknown eworker', async () => {
    const res = await api(gw, 'POST', '/api/v1/eworkers/nobody/parked/replay', {});
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found' } });
  });
});
