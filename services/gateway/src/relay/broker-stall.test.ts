import { EventTap, TcpProxy, eventually, testServers } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

/** Event ids in first-seen order, redeliveries dropped (publishing is at-least-once). */
function dedupedIds(tap: EventTap): string[] {
  return tap.uniqueMessages().map((m) => (m.body as { event_id: string }).event_id);
}

async function unpublished(gw: TestGateway): Promise<number> {
  const res = await gw.schema.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
  return res.rows[0]!.n;
}

/**
 * A stalled broker (a dead peer or a dropped route: no reset, no FIN) is the fault that once
 * left the relay waiting forever on a channel close that never settled, with a backlog growing
 * and every probe green. The stall here lasts well past the heartbeat, so the connection dies
 * while a confirm round is pending.
 */
describe('relay with the RabbitMQ connection stalled (fault test)', () => {
  let proxy: TcpProxy;
  let gw: TestGateway | undefined;
  let tap: EventTap;

  beforeAll(async () => {
    const rabbit = new URL((await testServers()).rabbitUrl);
    proxy = await TcpProxy.start(rabbit.hostname, Number(rabbit.port || 5672));
    gw = await startTestGateway('broker stall', {
      rabbitUrl: (url) => proxy.proxiedUrl(url),
      env: {
        RABBITMQ_HEARTBEAT_SECONDS: '1',
        RELAY_CONFIRM_TIMEOUT_MS: '1000',
        RELAY_STALL_READY_SECONDS: '3',
        READY_REQUIRES_BROKER: 'true',
        SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
      },
    });
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
    await proxy?.close();
  });

  it('publishes the backlog within a bound after the stall ends, and stops within its drain deadline', async () => {
    const g = gw!;
    const sent: string[] = [];
    const send = async (i: number) => {
      const res = await api(g, 'POST', '/v1.0/event/stall.test', { i });
      expect(res.status).toBe(202);
      sent.push(eventIdOf(res));
    };
    for (let i = 0; i < 5; i += 1) await send(i);
    await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 10_000 });

    proxy.stall();
    // keep events coming while the connection dies of missed heartbeats
    let i = 5;
    await eventually(
      async () => {
        await send(i);
        i += 1;
        expect((await api(g, 'GET', '/readyz')).status).toBe(503);
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    for (let j = 0; j < 20; j += 1) await send(i + j);
    expect(await unpublished(g)).toBeGreaterThan(0);

    proxy.resume();
    await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 30_000 });
    await eventually(async () => expect(await unpublished(g)).toBe(0));
    await eventually(async () => expect((await api(g, 'GET', '/readyz')).status).toBe(200), {
      timeoutMs: 10_000,
    });

    // stop while the broker is stalled again: the drain deadline holds whatever the broker does
    await send(1000);
    proxy.stall();
    gw = undefined;
    const started = Date.now();
    await g.gateway.stop();
    // SHUTDOWN_DRAIN_TIMEOUT_MS is 2000; the margin covers timers firing late on a busy machine
    expect(Date.now() - started).toBeLessThan(2000 + 1500);
    await g.schema.drop();
    await g.vhost.drop();
  });
});

/**
 * Without heartbeats, a stalled broker still looks connected: only the relay's own progress
 * tells that nothing is published. `/readyz` must say so, and recover once the broker answers.
 */
describe('relay that makes no progress while the broker looks connected (fault test)', () => {
  it('fails /readyz on the relay check while a backlog waits, and passes again once it drains', async () => {
    const rabbit = new URL((await testServers()).rabbitUrl);
    const proxy = await TcpProxy.start(rabbit.hostname, Number(rabbit.port || 5672));
    const gw = await startTestGateway('relay no progress', {
      rabbitUrl: (url) => proxy.proxiedUrl(url),
      env: {
        RABBITMQ_HEARTBEAT_SECONDS: '0',
        RELAY_CONFIRM_TIMEOUT_MS: '500',
        RELAY_PROGRESS_TIMEOUT_SECONDS: '2',
      },
    });
    const tap = await EventTap.open(gw.vhost.url);
    try {
      const readyz = async () => {
        const res = await api(gw, 'GET', '/readyz');
        return {
          status: res.status,
          relay: (res.body as { checks: Record<string, { ok: boolean }> }).checks.relay,
        };
      };
      await eventually(async () => expect((await readyz()).status).toBe(200));

      proxy.stall();
      const sent = [eventIdOf(await api(gw, 'POST', '/v1.0/event/stall.progress', { i: 0 }))];
      await eventually(
        async () =>
          expect(await readyz()).toEqual({
            status: 503,
            relay: expect.objectContaining({ ok: false }),
          }),
        { timeoutMs: 15_000 },
      );
      const metrics = (await api(gw, 'GET', '/metrics')).text;
      const age = Number(
        /^reten_outbox_oldest_age_seconds(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1],
      );
      expect(age).toBeGreaterThan(1);

      proxy.resume();
      await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 30_000 });
      await eventually(async () => expect((await readyz()).status).toBe(200), {
        timeoutMs: 10_000,
      });
    } finally {
      await tap.close();
      await gw.close();
      await proxy.close();
    }
  });
});
