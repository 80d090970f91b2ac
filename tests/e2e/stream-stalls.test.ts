import { TcpProxy, eventually, testServers } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { ResumingClient, ingestMany } from './stream-helpers';

jest.setTimeout(120_000);

/** How soon after a stall ends the stream must be whole again. */
const RECOVERY_MS = 20_000;

let gw: TestGateway;
let writeKey: string;
let streamKey: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  gw = await startTestGateway('stream stalls', { tenantId: 'acme' });
  writeKey = await gw.createKey('acme', ['events:write']);
  streamKey = await gw.createKey('acme', ['stream:read']);
});

afterEach(async () => {
  // replicas and clients before the proxies they talk through
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await gw?.close();
});

async function proxyFor(url: string, defaultPort: number): Promise<TcpProxy> {
  const u = new URL(url);
  const proxy = await TcpProxy.start(u.hostname, Number(u.port || defaultPort));
  cleanups.push(async () => {
    if (proxy.isStalled) proxy.resume();
    await proxy.close();
  });
  return proxy;
}

/** The only replica of its own Redis prefix and vhost user, so it is the active consumer. */
async function replica(
  title: string,
  options: { redisUrl?: string; env?: Record<string, string> },
): Promise<TestStream> {
  const r = await startTestStream({
    schema: gw.schema,
    vhost: gw.vhost,
    redisPrefix: testRedisPrefix(title),
    ...options,
  });
  cleanups.push(() => r.close());
  return r;
}

function resumingClient(r: TestStream): ResumingClient {
  const client = new ResumingClient([r.wsUrl], streamKey, 'stall.*');
  cleanups.push(() => client.stop());
  return client;
}

async function readiness(r: TestStream): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${r.httpUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

/** Events before, during and after a stall reach a resuming client once, in order. */
async function throughStall(
  r: TestStream,
  proxy: TcpProxy,
  during: (stalled: string[], client: ResumingClient) => Promise<string[]>,
): Promise<ResumingClient> {
  const client = resumingClient(r);
  await eventually(() => expect(client.subscribed()).toBe(true));
  const before = await ingestMany(gw, writeKey, 'stall.before', 3);
  await eventually(() => expect(client.eventIds()).toEqual(before));
  proxy.stall();
  const stalled = await ingestMany(gw, writeKey, 'stall.during', 5);
  const alsoDuring = await during(stalled, client);
  const resumedAt = Date.now();
  proxy.resume();
  const after = await ingestMany(gw, writeKey, 'stall.after', 3);
  await eventually(
    () => expect(client.eventIds()).toEqual([...before, ...stalled, ...alsoDuring, ...after]),
    {
      timeoutMs: RECOVERY_MS,
    },
  );
  await eventually(async () => expect((await readiness(r)).status).toBe(200), {
    timeoutMs: RECOVERY_MS,
  });
  expect(Date.now() - resumedAt).toBeLessThan(RECOVERY_MS);
  return client;
}

it('reports a stalled Redis on /readyz while it lasts, then resumes its clients without a gap or duplicate', async () => {
  const { redisUrl } = await testServers();
  const proxy = await proxyFor(redisUrl, 6379);
  const r = await replica('stall redis', {
    redisUrl: proxy.proxiedUrl(redisUrl),
    env: { STREAM_REDIS_PING_INTERVAL_MS: '500' },
  });
  await throughStall(r, proxy, async () => {
    await eventually(
      async () => {
        const ready = await readiness(r);
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ checks: { redis: { ok: false } } });
      },
      { timeoutMs: 10_000 },
    );
    return [];
  });
});

it('reports a stalled broker on /readyz while it lasts, then streams what was queued meanwhile, in order', async () => {
  const proxy = await proxyFor(gw.vhost.url, 5672);
  const r = await replica('stall broker', {
    env: { RABBITMQ_URL: proxy.proxiedUrl(gw.vhost.url), RABBITMQ_HEARTBEAT_SECONDS: '1' },
  });
  await throughStall(r, proxy, async () => {
    await eventually(
      async () => {
        const ready = await readiness(r);
        // the broker is reported, not required: a replica without it still serves its clients
        expect(ready.body).toMatchObject({ checks: { rabbitmq: { ok: false } } });
      },
      { timeoutMs: 15_000 },
    );
    return [];
  });
});

it('reports a stalled PostgreSQL on /readyz while it lasts, keeps live events flowing, and resumes clients after it', async () => {
  const proxy = await proxyFor(gw.schema.databaseUrl, 5432);
  const r = await replica('stall postgres', {
    env: {
      DATABASE_URL: proxy.proxiedUrl(gw.schema.databaseUrl),
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
    },
  });
  await throughStall(r, proxy, async (stalled, client) => {
    await eventually(
      async () => {
        const ready = await readiness(r);
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ checks: { postgres: { ok: false } } });
      },
      { timeoutMs: 10_000 },
    );
    // live fan-out needs no database: what is accepted during the stall arrives during it
    await eventually(() => expect(client.eventIds().slice(-stalled.length)).toEqual(stalled));
    return [];
  });
});
