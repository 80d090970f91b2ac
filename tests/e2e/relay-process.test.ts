import path from 'node:path';
import {
  EventTap,
  ServiceProcess,
  createTestSchema,
  createTestVhost,
  eventually,
  freePort,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { api } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';

/** The compiled relay process (`pnpm start` runs it beside a gateway with RELAY_ENABLED=false). */
const RELAY_MAIN = path.resolve(__dirname, '../../services/relay/dist/main.js');
const PRODUCERS = 6;

interface RelayProcess {
  process: ServiceProcess;
  url: string;
}

async function startRelay(schema: TestSchema, vhost: TestVhost): Promise<RelayProcess> {
  const port = await freePort();
  const proc = await ServiceProcess.start({
    script: RELAY_MAIN,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: schema.databaseUrl,
      DATABASE_SCHEMA: schema.schema,
      RABBITMQ_URL: vhost.url,
      RELAY_LOCK_RETRY_MS: '200',
      RELAY_POLL_INTERVAL_MS: '200',
    },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  return { process: proc, url: `http://127.0.0.1:${port}` };
}

async function relayActive(relay: { url: string }): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  return Number(/^reten_relay_active(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1]);
}

/** Producers posting numbered events until `stop()`; what each got 202 for, in order. */
function produce(gw: { url: string; apiKey: string }, type: string) {
  const acceptedBy: string[][] = Array.from({ length: PRODUCERS }, () => []);
  let stopping = false;
  const done = Promise.all(
    acceptedBy.map(async (ids, p) => {
      for (let i = 0; !stopping; i += 1) {
        const res = await api(gw, 'POST', `/v1.0/event/${type}`, { p, i });
        if (res.status !== 202) throw new Error(`answered ${res.status}: ${res.text}`);
        ids.push((res.body as { event_id: string }).event_id);
      }
    }),
  );
  return {
    acceptedBy,
    count: () => acceptedBy.reduce((n, ids) => n + ids.length, 0),
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

/** Every accepted event was published, each producer's in the order it was accepted. */
function expectAllPublishedInOrder(tap: EventTap, acceptedBy: string[][]): void {
  const order = tap.uniqueMessages().map((m) => m.body as { event_id: string });
  const published = new Set(order.map((m) => m.event_id));
  expect(acceptedBy.flat().filter((id) => !published.has(id))).toEqual([]);
  for (const ids of acceptedBy) {
    const mine = new Set(ids);
    expect(order.filter((m) => mine.has(m.event_id)).map((m) => m.event_id)).toEqual(ids);
  }
}

describe('the outbox relay as its own process', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let tap: EventTap;
  let apiKey: string;
  let gateway: GatewayProcess;
  const relays: RelayProcess[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('e2e relay process');
    vhost = await createTestVhost('e2e relay process');
    apiKey = await createApiKey(schema);
    tap = await EventTap.open(vhost.url);
    gateway = await startGatewayProcess(schema, vhost, { RELAY_ENABLED: 'false' });
  });

  afterAll(async () => {
    for (const r of relays) await r.process.kill('SIGKILL');
    await gateway?.process.kill('SIGKILL');
    await tap?.close();
    await schema?.drop();
    await vhost?.drop();
  });

  it('publishes what a gateway without its own relay accepts, and survives kill -9 and a standby taking over', async () => {
    const gw = { url: gateway.url, apiKey };
    // the gateway does not relay: a 202 is durable in the outbox whether a relay runs or not
    expect(await relayActive({ url: gateway.url })).toBe(0);
    const before = produce(gw, 'relay.process');
    await eventually(() => expect(before.count()).toBeGreaterThanOrEqual(60), {
      timeoutMs: 30_000,
    });
    await before.stop();
    const waiting = await schema.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    expect(waiting.rows[0]!.n).toBe(before.count());

    const first = await startRelay(schema, vhost);
    relays.push(first);
    const standby = await startRelay(schema, vhost);
    relays.push(standby);
    await eventually(() => expectAllPublishedInOrder(tap, before.acceptedBy), {
      timeoutMs: 30_000,
    });
    const [a, b] = [await relayActive(first), await relayActive(standby)];
    expect(a + b).toBe(1);
    const [leader, other] = a === 1 ? [first, standby] : [standby, first];

    // the leader dies mid-load: the standby takes the lock and publishes the rest, in order
    const during = produce(gw, 'relay.process');
    await eventually(() => expect(during.count()).toBeGreaterThanOrEqual(100), {
      timeoutMs: 30_000,
    });
    await leader.process.kill('SIGKILL');
    await eventually(() => expect(during.count()).toBeGreaterThanOrEqual(200), {
      timeoutMs: 30_000,
    });
    await during.stop();
    await eventually(() => expectAllPublishedInOrder(tap, during.acceptedBy), {
      timeoutMs: 30_000,
    });
    expect(await relayActive(other)).toBe(1);
    const left = await schema.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    expect(left.rows[0]!.n).toBe(0);
  });

  it('stops on SIGTERM within its drain deadline and leaves nothing unpublished it had confirmed', async () => {
    const relay = await startRelay(schema, vhost);
    relays.push(relay);
    const gw = { url: gateway.url, apiKey };
    const load = produce(gw, 'relay.sigterm');
    await eventually(() => expect(load.count()).toBeGreaterThanOrEqual(50), {
      timeoutMs: 30_000,
    });
    const signalled = Date.now();
    const code = await relay.process.kill('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);
    await load.stop();
    // whatever it left goes out with the next relay, in order
    const next = await startRelay(schema, vhost);
    relays.push(next);
    await eventually(() => expectAllPublishedInOrder(tap, load.acceptedBy), { timeoutMs: 30_000 });
  });
});
