import type { Socket } from 'node:net';
import { apiKeyIdOf } from '@reten/auth';
import { TcpProxy, eventually, testServers } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { TestClient } from '../../services/stream/src/test-client';
import { ingest, ingestMany, metricValue } from './stream-helpers';

jest.setTimeout(90_000);

let gw: TestGateway;
let redisPrefix: string;
let direct: TestStream;
let writeKey: string;
let streamKey: string;
let otherStreamKey: string;
const clients: TestClient[] = [];
const replicas: TestStream[] = [];

function connect(
  url: string,
  token = streamKey,
  options: { headers?: Record<string, string> } = {},
) {
  const client = new TestClient(url, { token, ...options });
  clients.push(client);
  return client;
}

async function replica(env: Record<string, string>, redisUrl?: string): Promise<TestStream> {
  const r = await startTestStream({
    schema: gw.schema,
    vhost: gw.vhost,
    redisPrefix,
    env,
    ...(redisUrl ? { redisUrl } : {}),
  });
  replicas.push(r);
  return r;
}

/** Resolves once the relay published every accepted event (they all have a stream position). */
async function untilPublished(): Promise<void> {
  await eventually(async () => {
    const res = await gw.schema.pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox');
    expect(res.rows[0]?.n).toBe('0');
  });
}

function metric(r: TestStream, name: string): Promise<number> {
  return metricValue(r.httpUrl, name);
}

beforeAll(async () => {
  gw = await startTestGateway('stream faults', { tenantId: 'acme' });
  redisPrefix = testRedisPrefix('stream faults');
  // started first, so it is the single active consumer of reten.stream
  direct = await startTestStream({ schema: gw.schema, vhost: gw.vhost, redisPrefix });
  await eventually(async () => {
    const ready = (await (await fetch(`${direct.httpUrl}/readyz`)).json()) as {
      checks: { rabbitmq: { ok: boolean } };
    };
    expect(ready.checks.rabbitmq.ok).toBe(true);
  });
  writeKey = await gw.createKey('acme', ['events:write']);
  streamKey = await gw.createKey('acme', ['stream:read']);
  otherStreamKey = await gw.createKey('globex', ['stream:read']);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of replicas.splice(0)) await r.close();
});

afterAll(async () => {
  await direct?.close();
  await gw?.close();
});

it('closes a client that stops reading with 4008 once its send buffer is full, while a fast client on the same replica gets everything', async () => {
  const r = await replica({
    STREAM_MAX_SEND_BUFFER_BYTES: '262144',
    STREAM_CLOSE_GRACE_MS: '30000',
  });
  const slow = connect(`${r.wsUrl}?types=big.*`);
  const fast = connect(`${r.wsUrl}?types=big.*`);
  await slow.waitFor('subscribed');
  await fast.waitFor('subscribed');
  const socket = (slow.ws as unknown as { _socket: Socket })._socket;
  socket.pause(); // the kernel buffers fill, then the server's send buffer
  const blob = 'x'.repeat(100_000);
  const ids = await ingestMany(gw, writeKey, 'big.blob', 120, (i) => ({ i, blob }));
  await eventually(() => expect(fast.eventIds()).toEqual(ids), { timeoutMs: 30_000 });
  await eventually(async () =>
    expect(await metric(r, 'reten_stream_slow_clients_dropped_total')).toBe(1),
  );
  socket.resume(); // read what was sent before the close frame
  expect(await slow.waitClosed(20_000)).toBe(4008);
  expect(slow.closeReason).toMatch(/slow consumer/);
  expect(slow.eventIds().length).toBeLessThan(ids.length);
  expect(slow.eventIds()).toEqual(ids.slice(0, slow.eventIds().length));
});

it('paces a resume larger than the send buffer to the reader instead of closing it', async () => {
  const r = await replica({
    STREAM_MAX_SEND_BUFFER_BYTES: '65536',
    STREAM_BACKFILL_PAGE_SIZE: '50',
  });
  const blob = 'y'.repeat(20_000);
  const [first, ...rest] = await ingestMany(gw, writeKey, 'bulk.item', 16, (i) => ({ i, blob }));
  await untilPublished(); // all of them in the backfill (not yet published ones come live)
  const client = connect(`${r.wsUrl}?types=bulk.*&last_event_id=${first}`);
  expect((await client.waitFor('resumed', 1, 30_000)).backfilled).toBe(rest.length);
  expect(client.eventIds()).toEqual(rest);
  expect(client.closeCode).toBeUndefined();
});

it('drops a client that does not answer pings and keeps one that does', async () => {
  const r = await replica({ STREAM_PING_INTERVAL_MS: '150' });
  const deaf = new TestClient(`${r.wsUrl}?types=*`, { token: streamKey, autoPong: false });
  clients.push(deaf);
  const healthy = connect(`${r.wsUrl}?types=*`);
  await deaf.waitFor('subscribed');
  await healthy.waitFor('subscribed');
  expect(await deaf.waitClosed()).toBe(1006);
  expect(healthy.closeCode).toBeUndefined();
  const id = await ingest(gw, writeKey, 'order.created');
  await eventually(() => expect(healthy.eventIds()).toContain(id));
});

it('refuses connections past the per-tenant (429) and per-process (503) limits', async () => {
  const r = await replica({ STREAM_MAX_CONNECTIONS_PER_TENANT: '2', STREAM_MAX_CONNECTIONS: '3' });
  const a1 = connect(`${r.wsUrl}?types=*`);
  const a2 = connect(`${r.wsUrl}?types=*`);
  await a1.open();
  await a2.open();
  const a3 = connect(`${r.wsUrl}?types=*`);
  await expect(a3.open()).rejects.toThrow(/429/);
  expect(JSON.parse(a3.unexpected?.body ?? '{}')).toMatchObject({
    error: { code: 'rate_limit_exceeded' },
  });
  const b1 = connect(`${r.wsUrl}?types=*`, otherStreamKey);
  await b1.open();
  const b2 = connect(`${r.wsUrl}?types=*`, otherStreamKey);
  await expect(b2.open()).rejects.toThrow(/503/);
  a1.close();
  await eventually(async () => {
    const again = connect(`${r.wsUrl}?types=*`);
    await again.open();
  });
});

it('closes a stream with 4401 once its key is revoked, and keeps the others', async () => {
  const r = await replica({ STREAM_REAUTH_INTERVAL_MS: '200' });
  const doomedKey = await gw.createKey('acme', ['stream:read'], 'revoked soon');
  const doomed = connect(`${r.wsUrl}?types=*`, doomedKey);
  const kept = connect(`${r.wsUrl}?types=*`);
  await doomed.waitFor('subscribed');
  await kept.waitFor('subscribed');
  const keyId = apiKeyIdOf(doomedKey);
  if (!keyId) throw new Error('not an API key');
  expect(await gw.gateway.authenticator.revoke('acme', keyId)).toBe(true);
  expect(await doomed.waitClosed()).toBe(4401);
  expect(doomed.control('error')[0]).toMatchObject({ error: { code: 'unauthorized' } });
  const id = await ingest(gw, writeKey, 'order.created');
  await eventually(() => expect(kept.eventIds()).toContain(id));
  expect(kept.closeCode).toBeUndefined();
});

it('refuses a browser origin that is not allowed with 403 and accepts an allowed one', async () => {
  const r = await replica({ STREAM_ALLOWED_ORIGINS: 'https://app.example.com' });
  const evil = connect(`${r.wsUrl}?types=*`, streamKey, {
    headers: { origin: 'https://evil.example' },
  });
  await expect(evil.open()).rejects.toThrow(/403/);
  const good = connect(`${r.wsUrl}?types=*`, streamKey, {
    headers: { origin: 'https://app.example.com' },
  });
  await good.waitFor('subscribed');
});

it('closes its clients with 1012 on shutdown, telling them to reconnect', async () => {
  const r = await replica({});
  const client = connect(`${r.wsUrl}?types=*`);
  await client.waitFor('subscribed');
  replicas.splice(replicas.indexOf(r), 1);
  await r.close();
  expect(await client.waitClosed()).toBe(1012);
  expect(client.closeReason).toMatch(/reconnect/);
});

it('resumes its clients from PostgreSQL without a gap or duplicate after its Redis connection is cut', async () => {
  const { redisUrl } = await testServers();
  const u = new URL(redisUrl);
  const proxy = await TcpProxy.start(u.hostname, Number(u.port || 6379));
  try {
    const r = await replica({}, proxy.proxiedUrl(redisUrl));
    const client = connect(`${r.wsUrl}?types=order.*`);
    await client.waitFor('subscribed');
    const before = await ingestMany(gw, writeKey, 'order.created', 3);
    await eventually(() => expect(client.eventIds()).toEqual(before));
    proxy.cut();
    await eventually(async () => expect((await fetch(`${r.httpUrl}/readyz`)).status).toBe(503));
    const during = await ingestMany(gw, writeKey, 'order.created', 5);
    await ingest(gw, writeKey, 'user.created');
    proxy.restore();
    const after = await ingestMany(gw, writeKey, 'order.created', 3);
    const expected = [...before, ...during, ...after];
    await eventually(() => expect(client.eventIds()).toEqual(expected), { timeoutMs: 20_000 });
    expect(client.closeCode).toBeUndefined();
    expect(await metric(r, 'reten_stream_redis_resyncs_total')).toBeGreaterThanOrEqual(1);
  } finally {
    for (const r of replicas.splice(0)) await r.close(); // before the proxy they talk through
    await proxy.close();
  }
});
