import { EventTap, createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

/** Backend pids holding the relay's advisory lock of `schema` (the lock is per schema). */
async function relayLockHolders(test: TestSchema): Promise<number[]> {
  const res = await test.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 1
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((classid::bigint << 32) | objid::bigint) = hashtext($1)::bigint`,
    [`reten.relay.${test.schema}`],
  );
  return res.rows.map((r) => r.pid);
}

/** Event ids in first-seen order, redeliveries dropped (publishing is at-least-once). */
function dedupedIds(tap: EventTap): string[] {
  return tap.uniqueMessages().map((m) => (m.body as { event_id: string }).event_id);
}

describe('relay leadership across gateway replicas', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let a: TestGateway | undefined;
  let b: TestGateway | undefined;
  let tap: EventTap;

  beforeAll(async () => {
    schema = await createTestSchema('relay leadership');
    vhost = await createTestVhost('relay leadership');
    tap = await EventTap.open(vhost.url);
    const env = { RELAY_LOCK_RETRY_MS: '100', RELAY_BATCH_SIZE: '10' };
    a = await startTestGateway('relay leader a', { schema, vhost, env });
    b = await startTestGateway('relay leader b', { schema, vhost, env });
  });

  afterAll(async () => {
    await tap?.close();
    await a?.close();
    await b?.close();
    await schema?.drop();
    await vhost?.drop();
  });

  it('runs exactly one active relay; when it stops the standby takes over within seconds and publishes everything in order', async () => {
    const first = a!;
    const second = b!;
    await eventually(() => {
      expect([first.gateway.relayActive, second.gateway.relayActive].filter(Boolean)).toHaveLength(
        1,
      );
    });
    expect(await relayLockHolders(schema)).toHaveLength(1);
    const [active, standby] = first.gateway.relayActive ? [first, second] : [second, first];

    const sent: string[] = [];
    // one producer, alternating replicas: its order must hold across both
    for (let i = 0; i < 40; i += 1) {
      const via = i % 2 === 0 ? active : standby;
      sent.push(eventIdOf(await api(via, 'POST', '/v1.0/event/leader.test', { i })));
    }
    await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 10_000 });

    // stop the active replica in the middle of the stream
    const stopping = active.gateway.stop();
    for (let i = 40; i < 80; i += 1) {
      sent.push(eventIdOf(await api(standby, 'POST', '/v1.0/event/leader.test', { i })));
    }
    await stopping;
    if (active === a) a = undefined;
    else b = undefined;

    const takeoverStart = Date.now();
    await eventually(() => expect(standby.gateway.relayActive).toBe(true), { timeoutMs: 5_000 });
    expect(Date.now() - takeoverStart).toBeLessThan(5_000);
    await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 10_000 });
  });

  it("when the active relay's database session dies, one relay takes over and nothing is lost", async () => {
    const survivor = (a ?? b)!;
    const third = await startTestGateway('relay leader c', {
      schema,
      vhost,
      env: { RELAY_LOCK_RETRY_MS: '100' },
    });
    try {
      await eventually(async () => expect(await relayLockHolders(schema)).toHaveLength(1));
      const before = dedupedIds(tap).length;
      const sent: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        sent.push(eventIdOf(await api(survivor, 'POST', '/v1.0/event/leader.crash', { i })));
      }
      const [holder] = await relayLockHolders(schema);
      await schema.pool.query('SELECT pg_terminate_backend($1)', [holder]);
      for (let i = 20; i < 40; i += 1) {
        sent.push(eventIdOf(await api(third, 'POST', '/v1.0/event/leader.crash', { i })));
      }
      await eventually(
        async () => {
          const holders = await relayLockHolders(schema);
          expect(holders).toHaveLength(1);
          expect(holders[0]).not.toBe(holder);
        },
        { timeoutMs: 5_000 },
      );
      await eventually(() => expect(dedupedIds(tap).slice(before)).toEqual(sent), {
        timeoutMs: 10_000,
      });
      expect(
        [survivor.gateway.relayActive, third.gateway.relayActive].filter(Boolean),
      ).toHaveLength(1);
    } finally {
      await third.close();
    }
  });
});
