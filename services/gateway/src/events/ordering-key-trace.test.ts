import { request } from 'node:http';
import { EventTap, eventually } from '@reten/testing';
import type { TappedMessage } from '@reten/testing';
import { MESSAGE_HEADERS } from '@reten/contracts';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
/** A context that continues the request's trace (its span id may be the gateway's own span). */
const IN_TRACE: unknown = expect.stringMatching(
  new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-[0-9a-f]{2}$`),
);

/** The stored context does not continue the request's trace: none, or a trace of its own. */
function expectOutsideTrace(traceparent: unknown): void {
  if (traceparent === null) return;
  expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
  expect(traceparent).not.toContain(TRACE_ID);
}

interface Detail {
  ordering_key: string | null;
  traceparent: string | null;
  tracestate: string | null;
}

describe('ordering keys and trace context through the ingest APIs', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    gw = await startTestGateway('ordering key trace');
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  async function published(id: string, revision = 1): Promise<TappedMessage> {
    return eventually(() => {
      const found = tap.messages.find((m) => m.messageId === `${id}:${revision}`);
      if (!found) throw new Error(`${id}:${revision} not published yet`);
      return found;
    });
  }

  async function storedCount(): Promise<number> {
    const res = await gw.schema.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    return res.rows[0]?.n ?? -1;
  }

  it('EVCI takes the key from Reten-Ordering-Key and the trace from traceparent/tracestate, stores, shows and publishes them', async () => {
    const res = await api(
      gw,
      'POST',
      '/v1.0/event/order.created',
      { n: 1 },
      {
        headers: {
          'Reten-Ordering-Key': 'ord_456',
          traceparent: TRACEPARENT,
          tracestate: 'acme=1',
        },
      },
    );
    const id = eventIdOf(res);
    expect(res.body).toEqual({ event_id: id });

    const read = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(read.body).toMatchObject({
      event_id: id,
      ordering_key: 'ord_456',
      traceparent: IN_TRACE,
      tracestate: 'acme=1',
    });
    const msg = await published(id);
    expect(msg.headers).toMatchObject({
      [MESSAGE_HEADERS.orderingKey]: 'ord_456',
      [MESSAGE_HEADERS.traceparent]: (read.body as Detail).traceparent,
      [MESSAGE_HEADERS.tracestate]: 'acme=1',
    });
    // the key is part of the public envelope, the trace context is not
    expect(Object.keys(JSON.parse(msg.content) as object)).toEqual([
      'event_id',
      'event_type',
      'timestamp',
      'revision',
      'ordering_key',
      'data',
    ]);
  });

  it('REST takes the key from the body: the 202 envelope, the list and the event show it, the message carries it', async () => {
    const res = await api(
      gw,
      'POST',
      '/api/v1/events',
      {
        event_type: 'order.created',
        data: { n: 2 },
        ordering_key: 'customer-7',
      },
      { headers: { traceparent: TRACEPARENT } },
    );
    const id = eventIdOf(res);
    expect(res.body).toMatchObject({ event_id: id, ordering_key: 'customer-7', data: { n: 2 } });
    expect(Object.keys(res.body as object)).toEqual([
      'event_id',
      'event_type',
      'timestamp',
      'revision',
      'ordering_key',
      'data',
    ]);
    const read = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(read.body).toMatchObject({
      ordering_key: 'customer-7',
      traceparent: IN_TRACE,
      tracestate: null,
    });
    const list = await api(gw, 'GET', '/api/v1/events?type=order.created&limit=500');
    const listed = (list.body as { data: { event_id: string; ordering_key?: string }[] }).data;
    expect(listed.find((e) => e.event_id === id)?.ordering_key).toBe('customer-7');
    expect((await published(id)).headers[MESSAGE_HEADERS.orderingKey]).toBe('customer-7');
  });

  it('an event without a key shows ordering_key null and publishes no key; the trace context carried is the one stored', async () => {
    const id = eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', { n: 3 }));
    const read = await api(gw, 'GET', `/api/v1/events/${id}`);
    const detail = read.body as Detail;
    expect(detail.ordering_key).toBeNull();
    expectOutsideTrace(detail.traceparent);
    const msg = await published(id);
    expect(msg.headers).not.toHaveProperty(MESSAGE_HEADERS.orderingKey);
    // whatever trace context was stored (none, or the gateway's own) is the one carried
    expect(msg.headers[MESSAGE_HEADERS.traceparent]).toBe(detail.traceparent ?? undefined);
    expect(msg.body).not.toHaveProperty('ordering_key');
  });

  it.each([
    ['empty', ''],
    ['with a space', 'ord 456'],
    ['non-ASCII', 'ordé'],
    ['129 characters', 'k'.repeat(129)],
  ])(
    'refuses a key that is %s with 422 naming it, storing nothing (REST and EVCI)',
    async (_, key) => {
      const before = await storedCount();
      const rest = await api(gw, 'POST', '/api/v1/events', {
        event_type: 'order.created',
        data: {},
        ordering_key: key,
      });
      expect(rest.status).toBe(422);
      expect(rest.body).toMatchObject({
        error: {
          code: 'validation_failed',
          details: [expect.objectContaining({ path: 'body.ordering_key' })],
        },
      });
      // fetch refuses a header value it cannot send (non-ASCII); the API refuses all others
      if (/^[\x20-\x7e]*$/.test(key)) {
        const evci = await api(
          gw,
          'POST',
          '/v1.0/event/order.created',
          {},
          {
            headers: { 'Reten-Ordering-Key': key },
          },
        );
        expect(evci.status).toBe(422);
        expect(evci.body).toMatchObject({
          error: {
            code: 'validation_failed',
            details: [expect.objectContaining({ path: 'headers.reten-ordering-key' })],
          },
        });
      }
      expect(await storedCount()).toBe(before);
    },
  );

  it('refuses a non-ASCII EVCI key sent as raw bytes, and a repeated header, storing nothing', async () => {
    const before = await storedCount();
    const res = await rawPost(gw, '/v1.0/event/order.created', [
      ['Reten-Ordering-Key', Buffer.from('ordé', 'latin1')],
    ]);
    expect(res.status).toBe(422);
    const twice = await rawPost(gw, '/v1.0/event/order.created', [
      ['Reten-Ordering-Key', Buffer.from('a')],
      ['Reten-Ordering-Key', Buffer.from('b')],
    ]);
    expect(twice.status).toBe(422);
    expect(twice.body).toContain('headers.reten-ordering-key');
    expect(await storedCount()).toBe(before);
  });

  it('ignores an invalid traceparent (and its tracestate): the event is accepted, outside that trace', async () => {
    for (const traceparent of [
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      `${TRACEPARENT}-extra`,
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    ]) {
      const res = await api(
        gw,
        'POST',
        '/v1.0/event/order.created',
        {},
        {
          headers: { traceparent, tracestate: 'acme=1' },
        },
      );
      const read = await api(gw, 'GET', `/api/v1/events/${eventIdOf(res)}`);
      expectOutsideTrace((read.body as Detail).traceparent);
      expect((read.body as Detail).tracestate).toBeNull();
    }
  });

  it('a PUT revision keeps the key, carries the PUT request trace, and refuses another key with 409', async () => {
    const created = await api(gw, 'POST', '/api/v1/events', {
      event_type: 'order.created',
      data: { v: 1 },
      ordering_key: 'k1',
    });
    const id = eventIdOf(created);
    const put = await api(
      gw,
      'PUT',
      `/api/v1/events/${id}`,
      { data: { v: 2 } },
      {
        headers: { traceparent: TRACEPARENT },
      },
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ revision: 2, ordering_key: 'k1', traceparent: IN_TRACE });
    const msg = await published(id, 2);
    expect(msg.headers).toMatchObject({
      [MESSAGE_HEADERS.orderingKey]: 'k1',
      [MESSAGE_HEADERS.traceparent]: (put.body as Detail).traceparent,
    });
    expect(msg.body).toMatchObject({ revision: 2, ordering_key: 'k1' });

    const same = await api(gw, 'PUT', `/api/v1/events/${id}`, {
      data: { v: 3 },
      ordering_key: 'k1',
    });
    expect(same.body).toMatchObject({ revision: 3, ordering_key: 'k1' });
    expectOutsideTrace((same.body as Detail).traceparent);

    const other = await api(gw, 'PUT', `/api/v1/events/${id}`, {
      data: { v: 4 },
      ordering_key: 'k2',
    });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({
      error: {
        code: 'ordering_key_immutable',
        status: 409,
        details: [expect.objectContaining({ path: 'body.ordering_key' })],
      },
    });
    const keyless = eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', {}));
    const adding = await api(gw, 'PUT', `/api/v1/events/${keyless}`, {
      data: {},
      ordering_key: 'k1',
    });
    expect(adding.status).toBe(409);
    const invalid = await api(gw, 'PUT', `/api/v1/events/${id}`, { data: {}, ordering_key: 'a b' });
    expect(invalid.status).toBe(422);
    const current = await api(gw, 'GET', `/api/v1/events/${id}`);
    expect(current.body).toMatchObject({ revision: 3, ordering_key: 'k1' });
    expect((await api(gw, 'GET', `/api/v1/events/${keyless}`)).body).toMatchObject({ revision: 1 });
  });

  it('EVCI: the same Idempotency-Key with another Reten-Ordering-Key is another request (422 reused)', async () => {
    const headers = { 'Idempotency-Key': `idem-${Date.now()}`, 'Reten-Ordering-Key': 'a' };
    const first = await api(gw, 'POST', '/v1.0/event/order.created', { n: 9 }, { headers });
    const again = await api(gw, 'POST', '/v1.0/event/order.created', { n: 9 }, { headers });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await api(
      gw,
      'POST',
      '/v1.0/event/order.created',
      { n: 9 },
      {
        headers: { ...headers, 'Reten-Ordering-Key': 'b' },
      },
    );
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
  });
});

/** A POST with headers as raw bytes (fetch refuses non-ASCII values and joins repeats itself). */
async function rawPost(
  gw: TestGateway,
  path: string,
  extra: [string, Buffer][],
): Promise<{ status: number; body: string }> {
  const url = new URL(gw.url);
  const body = Buffer.from('{}');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        headers: {},
        setHost: true,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.setHeader('authorization', `Bearer ${gw.apiKey}`);
    req.setHeader('content-type', 'application/json');
    req.setHeader('content-length', body.length);
    for (const [name, value] of extra) req.appendHeader(name, value.toString('latin1'));
    req.end(body);
  });
}
