import { SCOPES } from '@reten/auth';
import { EventTap, eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

interface Envelope {
  event_id: string;
  event_type: string;
  timestamp: string;
  revision: number;
  data: unknown;
}
interface Page {
  data: Envelope[];
  next_cursor: string | null;
}

describe('REST events API /api/v1/events', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    gw = await startTestGateway('rest events');
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  async function create(event_type: string, data: unknown, timestamp?: string): Promise<string> {
    return eventIdOf(
      await api(gw, 'POST', '/api/v1/events', {
        event_type,
        data,
        ...(timestamp ? { timestamp } : {}),
      }),
    );
  }

  async function list(query: string): Promise<Page> {
    const res = await api(gw, 'GET', `/api/v1/events?${query}`);
    expect(res.status).toBe(200);
    return res.body as Page;
  }

  it('POST answers 202 with the stored envelope', async () => {
    const res = await api(gw, 'POST', '/api/v1/events', {
      event_type: 'order.created',
      data: { order_id: 'ord_456', status: 'pending' },
      timestamp: '2024-03-19T12:00:00Z',
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      event_id: expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/),
      event_type: 'order.created',
      timestamp: '2024-03-19T12:00:00.000Z',
      revision: 1,
      data: { order_id: 'ord_456', status: 'pending' },
    });
    const get = await api(gw, 'GET', `/api/v1/events/${eventIdOf(res)}`);
    expect(get.status).toBe(200);
    expect(get.headers.get('etag')).toBe('"1"');
    expect(get.body).toMatchObject(res.body as object);
    expect(get.body).toMatchObject({ eworkers: [], webhooks: [], received_at: expect.any(String) });
  });

  it('GET never answers 304 from the revision alone: the body carries live status; nothing is cached', async () => {
    // the ETag is the revision (for If-Match on PUT); what eworkers and endpoints did with the
    // event changes under one revision, so a browser's revalidation must get the current body
    const id = await create('order.created', { order_id: 'o-etag' });
    // once published, nothing of its detail changes any more (no eworker, no endpoint here):
    // the answers below can be compared byte for byte
    const first = await eventually(
      async () => {
        const res = await api(gw, 'GET', `/api/v1/events/${id}`);
        expect(res.body).toMatchObject({ published_at: expect.any(String) });
        return res;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(first.headers.get('etag')).toBe('"1"');
    expect(first.headers.get('cache-control')).toBe('no-store');
    const again = await api(gw, 'GET', `/api/v1/events/${id}`, undefined, {
      // (fetch adds `cache-control: no-cache` to a conditional request unless one is given:
      // a browser revalidating its cached copy sends none, or `max-age=0`)
      headers: { 'if-none-match': '"1"', 'cache-control': 'max-age=0' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ event_id: id, revision: 1, webhooks: [] });
    const head = await api(gw, 'HEAD', `/api/v1/events/${id}`);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(again.text)));
  });

  it('GET lists by exact type and by wildcard, newest first, escaping LIKE metacharacters', async () => {
    const a = await create('shop.order.created', { n: 1 });
    const b = await create('shop.order.paid', { n: 2 });
    const c = await create('shop.orderXpaid', { n: 3 });
    const d = await create('shop.order_x', { n: 4 });

    expect((await list('type=shop.order.paid')).data.map((e) => e.event_id)).toEqual([b]);
    expect((await list('type=shop.order.*')).data.map((e) => e.event_id)).toEqual([b, a]);
    expect((await list('type=shop.*')).data.map((e) => e.event_id)).toEqual([d, c, b, a]);
    // "_" is a literal underscore, not LIKE's any-character
    expect((await list('type=shop.order_*')).data.map((e) => e.event_id)).toEqual([d]);
  });

  it('GET filters by since (inclusive) and until (exclusive) on the event timestamp', async () => {
    await create('window.test', { i: 1 }, '2020-01-01T00:00:00Z');
    const t2 = await create('window.test', { i: 2 }, '2020-01-02T00:00:00Z');
    const t3 = await create('window.test', { i: 3 }, '2020-01-03T00:00:00Z');
    const page = await list(
      'type=window.test&since=2020-01-02T00:00:00Z&until=2020-01-03T00:00:00Z',
    );
    expect(page.data.map((e) => e.event_id)).toEqual([t2]);
    const from2 = await list('type=window.test&since=2020-01-02T00:00:00%2B00:00');
    expect(from2.data.map((e) => e.event_id)).toEqual([t3, t2]);
  });

  it('GET pages through every event with next_cursor, with no duplicate and no gap', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i += 1) ids.push(await create('page.test', { i }));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(
        `type=page.test&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.data.length).toBeLessThanOrEqual(5);
      seen.push(...page.data.map((e) => e.event_id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 20);
    expect(pages).toBe(5);
    expect(seen).toEqual([...ids].reverse());
  });

  it('GET answers 422 naming query.limit when limit is over 500', async () => {
    const res = await api(gw, 'GET', '/api/v1/events?limit=501');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: { code: 'validation_failed', status: 422, details: [{ path: 'query.limit' }] },
    });
  });

  it('GET answers 422 naming query.cursor for a cursor it did not issue', async () => {
    const res = await api(gw, 'GET', '/api/v1/events?cursor=bm90LWEtY3Vyc29y');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { details: [{ path: 'query.cursor' }] } });
  });

  it('PUT stores revision + 1, publishes it again and GET returns it', async () => {
    const id = await create('put.test', { v: 1 });
    const res = await api(gw, 'PUT', `/api/v1/events/${id}`, { data: { v: 2 } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(res.body).toMatchObject({
      event_id: id,
      event_type: 'put.test',
      revision: 2,
      data: { v: 2 },
    });

    const get = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(get.body).toMatchObject({ revision: 2, data: { v: 2 } });
    const listed = await list('type=put.test');
    expect(listed.data).toEqual([expect.objectContaining({ event_id: id, revision: 2 })]);

    await eventually(() => {
      const revisions = tap.messages
        .filter((m) => (m.body as Envelope).event_id === id)
        .map((m) => [(m.body as Envelope).revision, (m.body as Envelope).data]);
      expect(revisions).toEqual([
        [1, { v: 1 }],
        [2, { v: 2 }],
      ]);
    });
  });

  it('PUT with a stale If-Match answers 412 precondition_failed and stores nothing', async () => {
    const id = await create('ifmatch.test', { v: 1 });
    expect((await api(gw, 'PUT', `/api/v1/events/${id}`, { data: { v: 2 } })).status).toBe(200);

    const stale = await api(
      gw,
      'PUT',
      `/api/v1/events/${id}`,
      { data: { v: 3 } },
      { headers: { 'if-match': '"1"' } },
    );
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: { code: 'precondition_failed', status: 412 } });
    expect(stale.headers.get('etag')).toBe('"2"');
    const rows = await gw.schema.pool.query('SELECT revision FROM events WHERE event_id = $1', [
      id,
    ]);
    expect(rows.rowCount).toBe(2);

    const ok = await api(
      gw,
      'PUT',
      `/api/v1/events/${id}`,
      { data: { v: 3 } },
      { headers: { 'if-match': '"2"' } },
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ revision: 3, data: { v: 3 } });
  });

  it('PUT with If-Match: * updates an existing event and answers 404 for an unknown one', async () => {
    const id = await create('ifmatch.any', { v: 1 });
    const star = { headers: { 'if-match': '*' } };
    const ok = await api(gw, 'PUT', `/api/v1/events/${id}`, { data: { v: 2 } }, star);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ revision: 2 });
    const unknown = await api(
      gw,
      'PUT',
      '/api/v1/events/evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V',
      { data: {} },
      star,
    );
    expect(unknown.status).toBe(404);
  });

  it('PUT answers 422 naming headers.if-match for an If-Match that is not a revision', async () => {
    const id = await create('ifmatch.bad', { v: 1 });
    const res = await api(
      gw,
      'PUT',
      `/api/v1/events/${id}`,
      { data: {} },
      {
        headers: { 'if-match': '"abc"' },
      },
    );
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { details: [{ path: 'headers.if-match' }] } });
  });

  it("does not show or change another tenant's events", async () => {
    const id = await create('tenant.private', { secret: true });
    const other = await gw.createKey('events-other-tenant', [...SCOPES]);
    const as = { auth: other };
    expect((await api(gw, 'GET', `/api/v1/events/${id}`, undefined, as)).status).toBe(404);
    const listed = await api(gw, 'GET', '/api/v1/events?type=tenant.*', undefined, as);
    expect(listed.body).toEqual({ data: [], next_cursor: null });
    const put = await api(gw, 'PUT', `/api/v1/events/${id}`, { data: { secret: false } }, as);
    expect(put.status).toBe(404);
    const mine = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(mine.body).toMatchObject({ revision: 1, data: { secret: true } });
  });

  it('PUT and GET of an unknown id answer 404 not_found in the envelope', async () => {
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { data: {} }],
    ] as const) {
      const res = await api(gw, method, '/api/v1/events/evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V', body);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found', status: 404 } });
    }
    const malformed = await api(gw, 'GET', '/api/v1/events/not-an-id');
    expect(malformed.status).toBe(404);
    expect(malformed.body).toMatchObject({ error: { code: 'not_found' } });
  });
});
