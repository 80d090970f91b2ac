import path from 'node:path';
import { ServiceProcess, TEST_JWT_SECRET, eventually, freePort, testServers } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { testRedisPrefix } from '../../services/stream/src/test-fixture';
import { ResumingClient, ingestMany, metricValue } from './stream-helpers';

jest.setTimeout(120_000);

const SCRIPT = path.resolve(__dirname, '../../services/stream/dist/main.js');

let gw: TestGateway;
let writeKey: string;
let streamKey: string;
let redisPrefix: string;
const processes: ServiceProcess[] = [];
const clients: ResumingClient[] = [];

function publishedToRedis(httpUrl: string): Promise<number> {
  return metricValue(httpUrl, 'reten_stream_redis_published_total');
}

async function startReplica(): Promise<{ proc: ServiceProcess; wsUrl: string; httpUrl: string }> {
  const port = await freePort();
  const { redisUrl } = await testServers();
  const proc = await ServiceProcess.start({
    script: SCRIPT,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: gw.schema.databaseUrl,
      DATABASE_SCHEMA: gw.schema.schema,
      DATABASE_POOL_SIZE: '4',
      RABBITMQ_URL: gw.vhost.url,
      RABBITMQ_HEARTBEAT_SECONDS: '2',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      STREAM_BACKFILL_PAGE_SIZE: '5',
      SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
      STREAM_CLOSE_GRACE_MS: '500',
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  processes.push(proc);
  return {
    proc,
    wsUrl: `ws://127.0.0.1:${port}/events/stream`,
    httpUrl: `http://127.0.0.1:${port}`,
  };
}

beforeAll(async () => {
  gw = await startTestGateway('stream replicas', { tenantId: 'acme' });
  redisPrefix = testRedisPrefix('stream replicas');
  writeKey = await gw.createKey('acme', ['events:write']);
  streamKey = await gw.createKey('acme', ['stream:read']);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.stop();
  for (const p of processes.splice(0)) await p.kill('SIGKILL');
});

afterAll(async () => {
  await gw?.close();
});

async function scenario(
  signal: NodeJS.Signals,
): Promise<{ client: ResumingClient; expected: string[] }> {
  const first = await startReplica();
  await eventually(async () => {
    const ready = (await (await fetch(`${first.httpUrl}/readyz`)).json()) as {
      checks: { rabbitmq: { ok: boolean } };
    };
    expect(ready.checks.rabbitmq.ok).toBe(true); // consuming before the second one starts
  });
  const second = await startReplica();
  // the client starts on the first replica and fails over to the second
  const client = new ResumingClient([first.wsUrl, second.wsUrl], streamKey);
  clients.push(client);
  await eventually(() => expect(client.subscribed()).toBe(true));
  const before = await ingestMany(gw, writeKey, 'order.created', 10);
  await eventually(() => expect(client.eventIds()).toEqual(before));
  // the first replica started is the active consumer of reten.stream: killing it also tests
  // the takeover (its unacked messages are redelivered to the second)
  expect(await publishedToRedis(first.httpUrl)).toBeGreaterThan(0);
  expect(await publishedToRedis(second.httpUrl)).toBe(0);
  // kill it while events keep coming
  const during = ingestMany(gw, writeKey, 'order.created', 20);
  await first.proc.kill(signal);
  const after = [...(await during), ...(await ingestMany(gw, writeKey, 'order.created', 10))];
  return { client, expected: [...before, ...after] };
}

it('a replica killed with SIGKILL: its clients reconnect to the other and resume with no loss and no duplicate', async () => {
  const { client, expected } = await scenario('SIGKILL');
  await eventually(() => expect(client.eventIds()).toEqual(expected), { timeoutMs: 30_000 });
  expect(client.closeCodes[0]).toBe(1006);
});

it('a replica stopped with SIGTERM closes its clients with 1012; they resume on the other with no loss', async () => {
  const { client, expected } = await scenario('SIGTERM');
  await eventually(() => expect(client.eventIds()).toEqual(expected), { timeoutMs: 30_000 });
  expect(client.closeCodes[0]).toBe(1012);
});
