import { BrokerConnection, ConfirmPublisher } from '@reten/broker';
import { loadConfig } from '@reten/config';
import { createMetricsRegistry } from '@reten/observability';
import type { Registry } from '@reten/observability';
import { EventStore, clientConfig, createPool, newEventId } from '@reten/store';
import type { Pool } from '@reten/store';
import { MESSAGE_HEADERS } from '@reten/contracts';
import {
  EventTap,
  TcpProxy,
  createTestSchema,
  createTestVhost,
  eventually,
  silentLogger,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { buildOutboxRelay } from './build-relay';
import { relayConfig } from './config';
import { createRelayMetrics, registerOutboxGauges } from './metrics';
import type { OutboxRelay } from './outbox-relay';

interface RunningRelay {
  relay: OutboxRelay;
  registry: Registry;
  stop(): Promise<void>;
}

/** The relay as a process wires it (pool, confirm publisher, lock connection), on the test's schema and vhost. */
async function startRelay(
  schema: TestSchema,
  vhost: Pick<TestVhost, 'url'>,
  confirmTimeoutMs?: number,
): Promise<RunningRelay> {
  const log = silentLogger();
  const poolOptions = {
    databaseUrl: schema.databaseUrl,
    schema: schema.schema,
    max: 2,
    statementTimeoutMs: 10_000,
    applicationName: 'relay-test',
  };
  const pool: Pool = createPool(poolOptions);
  const store = new EventStore(pool, schema.schema);
  const registry = createMetricsRegistry('relay-test');
  registerOutboxGauges(registry, () => store.outboxLag());
  const publisher = new ConfirmPublisher(log);
  // the test's EventTap has declared reten.events in the vhost: the publisher needs no more
  const broker = new BrokerConnection({
    url: vhost.url,
    log,
    heartbeatSeconds: 5,
    connectionName: 'relay-test',
    setup: async (model) => void (await publisher.attach(model)),
  });
  const relay = buildOutboxRelay({
    config: {
      ...loadConfig(relayConfig, {}),
      DATABASE_SCHEMA: schema.schema,
      RELAY_LOCK_RETRY_MS: 100,
      RELAY_POLL_INTERVAL_MS: 200,
      ...(confirmTimeoutMs === undefined ? {} : { RELAY_CONFIRM_TIMEOUT_MS: confirmTimeoutMs }),
    },
    lockClientConfig: clientConfig(poolOptions),
    store,
    publisher,
    metrics: createRelayMetrics(registry),
    log,
  });
  broker.on('connect', () => relay.wake());
  await broker.start();
  relay.start();
  return {
    relay,
    registry,
    stop: async () => {
      await relay.stop(5_000);
      await broker.stop(2_000);
      await pool.end();
    },
  };
}

/** Commits events as the ingest does (one row each, in this order), without a NOTIFY. */
async function commitEvents(schema: TestSchema, type: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newEventId());
  await schema.pool.query(
    `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
     SELECT 'dev', id, 1, $2, now(), jsonb_build_object('n', n)
       FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n`,
    [ids, type],
  );
  return ids;
}

/** Event ids in first-seen order, redeliveries dropped (publishing is at-least-once). */
function dedupedIds(tap: EventTap): string[] {
  return tap.uniqueMessages().map((m) => (m.body as { event_id: string }).event_id);
}

describe('outbox relay (@reten/relay, without a gateway)', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let tap: EventTap;
  const running: RunningRelay[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('relay package');
    vhost = await createTestVhost('relay package');
    tap = await EventTap.open(vhost.url);
  });

  afterAll(async () => {
    for (const r of running) await r.stop();
    await tap?.close();
    await schema?.drop();
    await vhost?.drop();
  });

  it('shows the backlog in the outbox gauges, then one of two relays publishes it in commit order and marks it published', async () => {
    const gauges = createMetricsRegistry('gauges-test');
    const store = new EventStore(schema.pool, schema.schema);
    registerOutboxGauges(gauges, () => store.outboxLag());
    const sent = await commitEvents(schema, 'relay.pkg', 30);
    expect(await gauges.getSingleMetricAsString('reten_outbox_backlog')).toMatch(/ 30$/m);

    running.push(await startRelay(schema, vhost), await startRelay(schema, vhost));
    await eventually(() => expect(running.filter((r) => r.relay.active)).toHaveLength(1));
    sent.push(...(await commitEvents(schema, 'relay.pkg', 20)));

    await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 10_000 });
    await eventually(async () =>
      expect(await gauges.getSingleMetricAsString('reten_outbox_backlog')).toMatch(/ 0$/m),
    );
    const leader = running.find((r) => r.relay.active)!;
    expect(await leader.registry.getSingleMetricAsString('reten_relay_published_total')).toMatch(
      / 50$/m,
    );
  });

  it('when the leader stops, the standby takes the lock and publishes what follows, in order', async () => {
    const leader = running.find((r) => r.relay.active)!;
    const standby = running.find((r) => r !== leader)!;
    const before = dedupedIds(tap).length;

    await leader.stop();
    running.splice(running.indexOf(leader), 1);
    const sent = await commitEvents(schema, 'relay.takeover', 20);

    await eventually(() => expect(standby.relay.active).toBe(true), { timeoutMs: 5_000 });
    await eventually(() => expect(dedupedIds(tap).slice(before)).toEqual(sent), {
      timeoutMs: 10_000,
    });
  });

  it('marks a round as a first publish only after a round of its own, past the confirm timeout since it took the lock, and not after a failed publish', async () => {
    const own = await createTestSchema('relay first publish');
    const ownVhost = await createTestVhost('relay first publish');
    const ownTap = await EventTap.open(ownVhost.url);
    const target = new URL(ownVhost.url);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5672));
    const copies = (id: string) =>
      ownTap.messages.filter((m) => (m.body as { event_id: string }).event_id === id);
    const first = (id: string) => copies(id).map((m) => MESSAGE_HEADERS.firstPublish in m.headers);
    /** Commits one event and resolves once the tap has it. */
    const oneMore = async (): Promise<string> => {
      const [id] = await commitEvents(own, 'relay.first', 1);
      await eventually(() => expect(copies(id!).length).toBeGreaterThan(0), { timeoutMs: 5_000 });
      return id!;
    };
    let relay: RunningRelay | undefined;
    try {
      const backlog = await commitEvents(own, 'relay.first', 5);
      relay = await startRelay(own, { url: proxy.proxiedUrl(ownVhost.url) }, 300);
      // the first round after taking the lock may repeat what a previous leader published
      await eventually(() => expect(dedupedIds(ownTap)).toEqual(backlog), { timeoutMs: 10_000 });
      expect(backlog.flatMap(first)).toEqual([false, false, false, false, false]);

      // rounds after it are first publishes once the confirm timeout has passed since the lock
      let flagged: string | undefined;
      for (const deadline = Date.now() + 10_000; !flagged && Date.now() < deadline;) {
        const id = await oneMore();
        if (first(id)[0]) flagged = id;
      }
      expect(flagged).toBeDefined();
      expect(first(await oneMore())).toEqual([true]);

      // a publish cut before its confirm: it may have reached the broker, so its retry is not
      // a first publish; the round after the retry was marked is again
      const cut = proxy.cutAfterClientSends('relay.first');
      const [lost] = await commitEvents(own, 'relay.first', 1);
      await cut;
      proxy.restore();
      await eventually(() => expect(first(lost!).slice(-1)).toEqual([false]), {
        timeoutMs: 15_000,
      });
      expect(first(lost!).slice(1)).not.toContain(true);
      expect(first(await oneMore())).toEqual([true]);
    } finally {
      await relay?.stop();
      await proxy.close();
      await ownTap.close();
      await own.drop();
      await ownVhost.drop();
    }
  });
});
