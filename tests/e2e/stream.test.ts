import { EventEnvelopeSchema } from '@reten/contracts';
import { eventKeyAt } from '@reten/store';
import { eventually } from '@reten/testing';
import { api } from '../../services/gateway/src/test-api';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { TestClient } from '../../services/stream/src/test-client';
import { ingest, ingestMany } from './stream-helpers';

jest.setTimeout(60_000);

let gw: TestGateway;
let replicaA: TestStream;
let replicaB: TestStream;
let writeKey: string;
let streamKey: string;
let otherWriteKey: string;
let otherStreamKey: string;
const clients: TestClient[] = [];

function connect(url: string, token?: string, headers?: Record<string, string>): TestClient {
  const client = new TestClient(url, {
    ...(token ? { token } : {}),
    ...(headers ? { headers } : {}),
  });
  clients.push(client);
  return client;
}

/** A client subscribed on `replica` (waits for the `subscribed` frame). */
async function subscribed(
  replica: TestStream,
  query = 'types=*',
  token = streamKey,
): Promise<TestClient> {
  const client = connect(`${replica.wsUrl}?${query}`, token);
  await client.waitFor('subscribed');
  return client;
}

beforeAll(async () => {
  gw = await startTestGateway('stream e2e', { tenantId: 'acme' });
  const redisPrefix = testRedisPrefix('stream e2e');
  const env = { STREAM_BACKFILL_PAGE_SIZE: '3' };
  replicaA = await startTestStream({ schema: gw.schema, vhost: gw.vhost, redisPrefix, env });
  replicaB = await startTestStream({ schema: gw.schema, vhost: gw.vhost, redisPrefix, env });
  writeKey = await gw.createKey('acme', ['events:write']);
  streamKey = await gw.createKey('acme', ['stream:read']);
  otherWriteKey = await gw.createKey('globex', ['events:write']);
  otherStreamKey = await gw.createKey('globex', ['stream:read']);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await replicaA?.close();
  await replicaB?.close();
  await gw?.close();
});

describe('live fan-out', () => {
  it('delivers every event ingested over HTTP to the tenant’s clients on both replicas, in order, as the envelope JSON', async () => {
    const onA = await subscribed(replicaA);
    const onB = await subscribed(replicaB);
    const ids = await ingestMany(gw, writeKey, 'order.created', 5, (i) => ({ order: i }));
    await eventually(() => {
      expect(onA.eventIds()).toEqual(ids);
      expect(onB.eventIds()).toEqual(ids);
    });
    const first = onB.events()[0];
    expect(EventEnvelopeSchema.parse(first)).toEqual({
      event_id: ids[0],
      event_type: 'order.created',
      timestamp: expect.any(String),
      revision: 1,
      data: { order: 0 },
    });
    expect(Object.keys(first ?? {}).sort()).toEqual([
      'data',
      'event_id',
      'event_type',
      'revision',
      'timestamp',
    ]);
  });

  it('never sends one tenant’s events to another tenant’s clients', async () => {
    const acme = await subscribed(replicaA);
    const globex = await subscribed(replicaB, 'types=*', otherStreamKey);
    expect((await globex.waitFor('welcome')).tenant_id).toBe('globex');
    const acmeIds = await ingestMany(gw, writeKey, 'order.created', 3);
    const globexIds = await ingestMany(gw, otherWriteKey, 'order.created', 2);
    await eventually(() => {
      expect(acme.eventIds()).toEqual(acmeIds);
      expect(globex.eventIds()).toEqual(globexIds);
    });
  });

  it('sends only the types matching the URL filter, and a subscribe message replaces the filter', async () => {
    const client = await subscribed(replicaA, 'types=order.*,log:ClientLog');
    const order = await ingest(gw, writeKey, 'order.created');
    await ingest(gw, writeKey, 'user.created');
    const log = await ingest(gw, writeKey, 'log:ClientLog', { logs: [] });
    const shipped = await ingest(gw, writeKey, 'order.shipped');
    await eventually(() => expect(client.eventIds()).toEqual([order, log, shipped]));

    client.send({ type: 'subscribe', types: ['user.*'] });
    expect((await client.waitFor('subscribed', 2)).types).toEqual(['user.*']);
    await ingest(gw, writeKey, 'order.created');
    const user = await ingest(gw, writeKey, 'user.deleted');
    await eventually(() => expect(client.eventIds()).toEqual([order, log, shipped, user]));
  });

  it('waits for a subscribe message when the URL names no filter and no last_event_id', async () => {
    const witness = await subscribed(replicaA);
    const client = connect(replicaA.wsUrl, streamKey);
    expect(await client.waitFor('welcome')).toMatchObject({ subscribed: false, tenant_id: 'acme' });
    const before = await ingest(gw, writeKey, 'order.created');
    await eventually(() => expect(witness.eventIds()).toContain(before));
    expect(client.frames).toHaveLength(1);
    client.send({ type: 'subscribe', types: ['order.*'] });
    await client.waitFor('subscribed');
    const after = await ingest(gw, writeKey, 'order.created');
    await eventually(() => expect(client.eventIds()).toEqual([after]));
    expect(client.eventIds()).not.toContain(before);
  });
});

describe('resume with last_event_id', () => {
  it('sends every later event of the tenant and filter in order, then live, with no gap and no duplicate at the seam', async () => {
    const witness = await subscribed(replicaA, 'types=order.*');
    const history = await ingestMany(gw, writeKey, 'order.created', 8);
    await ingest(gw, writeKey, 'user.created'); // filtered out
    await ingest(gw, otherWriteKey, 'order.created'); // other tenant
    const client = connect(
      `${replicaB.wsUrl}?types=order.*&last_event_id=${history[1]}`,
      streamKey,
    );
    // events committed while the backfill runs (page size 3): they must appear exactly once
    const during = await ingestMany(gw, writeKey, 'order.created', 6);
    await client.waitFor('resumed');
    const after = await ingestMany(gw, writeKey, 'order.created', 3);
    const expected = [...history.slice(2), ...during, ...after];
    await eventually(() => expect(client.eventIds()).toEqual(expected));
    expect(new Set(client.eventIds()).size).toBe(expected.length);
    // a backfilled event is the same envelope as its live copy
    await eventually(() => expect(witness.eventIds()).toEqual(expect.arrayContaining(expected)));
    const live = new Map(witness.events().map((e) => [e.event_id, e]));
    for (const e of client.events()) expect(e).toEqual(live.get(e.event_id));
  });

  it('resumes from the first message when the URL has no last_event_id', async () => {
    const history = await ingestMany(gw, writeKey, 'invoice.paid', 4);
    const client = connect(replicaA.wsUrl, streamKey);
    await client.waitFor('welcome');
    client.send({ type: 'subscribe', types: ['invoice.*'], last_event_id: history[0] });
    const resumed = await client.waitFor('resumed');
    expect(resumed).toMatchObject({ last_event_id: history[0], backfilled: 3 });
    const live = await ingest(gw, writeKey, 'invoice.paid');
    await eventually(() => expect(client.eventIds()).toEqual([...history.slice(1), live]));
  });

  it('resumes after the given revision when last_event_id names one', async () => {
    const id = await ingest(gw, writeKey, 'doc.saved', { v: 1 });
    const res = await fetch(`${gw.url}/api/v1/events/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { v: 2 } }),
    });
    expect(res.status).toBeLessThan(300);
    // a client names a revision it was streamed, so one the relay has positioned; one without a
    // position yet resumes from the newest published position and then comes live (the README)
    await eventually(async () => {
      const { rows } = await gw.schema.pool.query<{ published: boolean }>(
        `SELECT reten_published_at(stream_position, published_at) IS NOT NULL AS published
           FROM events WHERE event_id = $1 AND revision = 2`,
        [id],
      );
      expect(rows[0]?.published).toBe(true);
    });
    const fromFirst = connect(`${replicaA.wsUrl}?types=doc.*&last_event_id=${id}:1`, streamKey);
    const fromSecond = connect(`${replicaA.wsUrl}?types=doc.*&last_event_id=${id}:2`, streamKey);
    await fromFirst.waitFor('resumed');
    await fromSecond.waitFor('resumed');
    const next = await ingest(gw, writeKey, 'doc.saved', { v: 1 });
    const revisions = (c: TestClient) =>
      c.events().map((e) => `${String(e.event_id)}:${String(e.revision)}`);
    await eventually(() => {
      expect(revisions(fromFirst)).toEqual([`${id}:2`, `${next}:1`]);
      expect(revisions(fromSecond)).toEqual([`${next}:1`]);
    });
  });

  it('closes with 4404 and an error frame when last_event_id is not an event of the tenant', async () => {
    const foreign = await ingest(gw, otherWriteKey, 'order.created');
    const client = connect(`${replicaA.wsUrl}?last_event_id=${foreign}`, streamKey);
    expect(await client.waitClosed()).toBe(4404);
    expect(client.control('error')[0]).toMatchObject({ error: { code: 'not_found' } });
  });

  it('closes with 4410 when last_event_id is older than the resume window', async () => {
    const old = await ingest(gw, writeKey, 'order.created');
    await gw.schema.pool.query(
      `UPDATE events SET received_at = now() - interval '2 days' WHERE event_id = $1`,
      [old],
    );
    const client = connect(`${replicaB.wsUrl}?last_event_id=${old}`, streamKey);
    expect(await client.waitClosed()).toBe(4410);
    expect(String((client.control('error')[0]?.error as { message: string }).message)).toMatch(
      /resume window/,
    );
  });

  describe("past the tenant's events retention", () => {
    beforeAll(async () => {
      await gw.schema.pool.query(
        `UPDATE tenants SET events_retention_seconds = 60 WHERE id = 'globex'`,
      );
    });
    afterAll(async () => {
      await gw.schema.pool.query(
        `UPDATE tenants SET events_retention_seconds = NULL WHERE id = 'globex'`,
      );
    });

    it('closes with 4410 when last_event_id was removed by retention (not 4404)', async () => {
      const removed = `${eventKeyAt(Date.now() - 3600_000)}${'0'.repeat(16)}`;
      const client = connect(`${replicaA.wsUrl}?last_event_id=${removed}`, otherStreamKey);
      expect(await client.waitClosed()).toBe(4410);
      expect(String((client.control('error')[0]?.error as { message: string }).message)).toMatch(
        /retention of 60 s/,
      );
    });

    it('closes with 4410 when last_event_id is older than the retention, before it is removed', async () => {
      const old = await ingest(gw, otherWriteKey, 'order.created');
      await gw.schema.pool.query(
        `UPDATE events SET received_at = now() - interval '2 minutes' WHERE event_id = $1`,
        [old],
      );
      const client = connect(`${replicaB.wsUrl}?last_event_id=${old}`, otherStreamKey);
      expect(await client.waitClosed()).toBe(4410);
    });
  });
});

describe('authentication and bad input', () => {
  async function refusal(url: string, token?: string, headers?: Record<string, string>) {
    const client = connect(url, token, headers);
    await expect(client.open()).rejects.toThrow(/upgrade refused/);
    return {
      status: client.unexpected?.status,
      body: JSON.parse(client.unexpected?.body ?? '{}') as unknown,
    };
  }

  it('refuses the upgrade with 401 and the error envelope without credentials or with a bad key', async () => {
    expect(await refusal(replicaA.wsUrl)).toEqual({
      status: 401,
      body: { error: expect.objectContaining({ code: 'unauthorized', status: 401 }) },
    });
    expect((await refusal(replicaA.wsUrl, 'rtn_0123456789abcdef_nope')).status).toBe(401);
    expect((await refusal(`${replicaA.wsUrl}?token=garbage`)).status).toBe(401);
  });

  it('refuses with 401 an Authorization header without the Bearer scheme, even with a good key', async () => {
    expect(await refusal(replicaA.wsUrl, undefined, { Authorization: streamKey })).toEqual({
      status: 401,
      body: {
        error: expect.objectContaining({
          code: 'unauthorized',
          message: expect.stringMatching(/Bearer/),
        }),
      },
    });
  });

  it('refuses with 403 a key without the stream:read scope', async () => {
    expect(await refusal(replicaA.wsUrl, writeKey)).toEqual({
      status: 403,
      body: { error: expect.objectContaining({ code: 'forbidden' }) },
    });
  });

  it('accepts the key as ?token= (browsers cannot set headers)', async () => {
    const client = connect(`${replicaA.wsUrl}?types=*&token=${streamKey}`);
    await client.waitFor('subscribed');
  });

  it('accepts a JWT from POST /api/v1/auth/token, and refuses one narrowed to other scopes with 403', async () => {
    const token = async (scopes: string[]) => {
      const res = await api(gw, 'POST', '/api/v1/auth/token', { scopes });
      expect(res.status).toBe(200);
      return (res.body as { access_token: string }).access_token;
    };
    const streamJwt = await token(['stream:read']);
    const client = connect(`${replicaA.wsUrl}?types=*&token=${streamJwt}`);
    expect(await client.waitFor('welcome')).toMatchObject({ tenant_id: 'acme' });
    expect((await refusal(replicaA.wsUrl, await token(['events:read']))).status).toBe(403);
    expect((await refusal(replicaA.wsUrl, `${streamJwt.slice(0, -4)}AAAA`)).status).toBe(401);
  });

  it('refuses a bad filter or last_event_id with 400 naming the parameter', async () => {
    const bad = await refusal(`${replicaA.wsUrl}?types=order.$`, streamKey);
    expect(bad).toMatchObject({
      status: 400,
      body: { error: { code: 'bad_request', details: [{ path: 'query.types' }] } },
    });
    const badId = await refusal(`${replicaA.wsUrl}?last_event_id=123`, streamKey);
    expect(badId).toMatchObject({
      status: 400,
      body: { error: { details: [{ path: 'query.last_event_id' }] } },
    });
  });

  it('answers an invalid or unknown client message with an error frame and keeps the connection', async () => {
    const client = await subscribed(replicaA);
    client.send('not json');
    client.send({ type: 'dance' });
    client.send({ type: 'subscribe', types: ['bad type!'] });
    await client.waitFor('error', 3);
    expect(client.control('error').map((f) => (f.error as { code: string }).code)).toEqual([
      'invalid_json',
      'bad_request',
      'bad_request',
    ]);
    client.send({ type: 'ping' });
    await client.waitFor('pong');
    const id = await ingest(gw, writeKey, 'order.created');
    await eventually(() => expect(client.eventIds()).toContain(id));
  });

  it('closes with 1009 a client message larger than the limit', async () => {
    const client = await subscribed(replicaA);
    client.send({ type: 'subscribe', types: Array.from({ length: 40 }, () => 'x'.repeat(120)) });
    expect(await client.waitClosed()).toBe(1009);
  });

  it('serves health, metrics and the browser example page over plain HTTP', async () => {
    expect((await fetch(`${replicaA.httpUrl}/readyz`)).status).toBe(200);
    const page = await fetch(`${replicaA.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/events/stream');
    const metrics = await (await fetch(`${replicaA.httpUrl}/metrics`)).text();
    expect(metrics).toContain('reten_stream_connections');
    expect(metrics).toContain('reten_stream_fanout_latency_seconds_bucket');
    // the live events sent above, measured from their acceptance by the gateway
    expect(metrics).toMatch(/^reten_stream_lag_seconds_count\{[^}]*\} [1-9]/m);
    expect((await fetch(`${replicaA.httpUrl}/nope`)).status).toBe(404);
  });
});
