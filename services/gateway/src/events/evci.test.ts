import { EventTap, eventually } from '@reten/testing';
import { MESSAGE_HEADERS } from '@reten/contracts';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

describe('EVCI ingest POST /v1.0/event/{type}', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    gw = await startTestGateway('evci ingest');
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  it('answers 202 with an evt_ ULID id, stores the event and publishes it to reten.events', async () => {
    const data = { logs: [{ level: 'info', msg: 'hello', n: 1.5 }], client: 'web' };
    const res = await api(gw, 'POST', '/v1.0/event/log:ClientLog', data);

    expect(res.status).toBe(202);
    expect(res.body).toEqual({ event_id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/) });
    const id = eventIdOf(res);

    const stored = await gw.schema.pool.query<{
      event_type: string;
      revision: number;
      data: unknown;
    }>('SELECT event_type, revision, data FROM events WHERE event_id = $1', [id]);
    expect(stored.rows).toEqual([{ event_type: 'log:ClientLog', revision: 1, data }]);

    const read = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      event_id: id,
      event_type: 'log:ClientLog',
      revision: 1,
      data,
    });

    const msg = await eventually(() => {
      const found = tap.messages.find((m) => (m.body as { event_id: string }).event_id === id);
      if (!found) throw new Error(`event ${id} not published yet`);
      return found;
    });
    expect(msg.routingKey).toBe('log:ClientLog');
    expect(msg.deliveryMode).toBe(2);
    expect(msg.contentType).toBe('application/json');
    expect(msg.messageId).toBe(`${id}:1`);
    expect(msg.headers[MESSAGE_HEADERS.tenant]).toBe(gw.tenantId);
    expect(msg.headers[MESSAGE_HEADERS.revision]).toBe(1);
    // the envelope exactly as ARCHITECTURE.md shows it: these keys in this order, nothing else
    const timestamp = (read.body as { timestamp: string }).timestamp;
    expect(Object.keys(JSON.parse(msg.content) as object)).toEqual([
      'event_id',
      'event_type',
      'timestamp',
      'revision',
      'data',
    ]);
    expect(msg.body).toEqual({
      event_id: id,
      event_type: 'log:ClientLog',
      timestamp,
      revision: 1,
      data,
    });
    expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('accepts any JSON value as the body, not only objects', async () => {
    for (const body of [[1, 2, 3], 'text', 42, null, true]) {
      const res = await api(gw, 'POST', '/v1.0/event/log:ClientLog', body);
      expect(res.status).toBe(202);
      const read = await api(gw, 'GET', `/api/v1/events/${eventIdOf(res)}`);
      expect((read.body as { data: unknown }).data).toEqual(body);
    }
  });

  it('answers 422 naming params.type when the type name has a forbidden character', async () => {
    const before = await gw.schema.pool.query('SELECT count(*)::int AS n FROM events');
    const res = await api(gw, 'POST', '/v1.0/event/order%20created', { a: 1 });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: { code: 'validation_failed', status: 422, details: [{ path: 'params.type' }] },
    });
    const after = await gw.schema.pool.query('SELECT count(*)::int AS n FROM events');
    expect(after.rows).toEqual(before.rows);
  });
});
