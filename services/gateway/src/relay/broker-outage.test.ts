import { EventTap, TcpProxy, eventually, testServers } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

/** Event ids in first-seen order, redeliveries dropped (publishing is at-least-once). */
function dedupedIds(tap: EventTap): string[] {
  return tap.uniqueMessages().map((m) => (m.body as { event_id: string }).event_id);
}

describe('relay with the RabbitMQ connection cut (fault test)', () => {
  let proxy: TcpProxy;
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    const rabbit = new URL((await testServers()).rabbitUrl);
    proxy = await TcpProxy.start(rabbit.hostname, Number(rabbit.port || 5672));
    gw = await startTestGateway('broker outage', {
      rabbitUrl: (url) => proxy.proxiedUrl(url),
      env: { RELAY_CONFIRM_TIMEOUT_MS: '2000', READY_REQUIRES_BROKER: 'true' },
    });
    // the tap reads the broker directly, not through the proxy
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
    await proxy?.close();
  });

  it('keeps answering 202 while the broker is unreachable and publishes every accepted event, in order, once it is back', async () => {
    const sent: string[] = [];
    const send = async (i: number) => {
      const res = await api(gw, 'POST', '/v1.0/event/outage.test', { i });
      expect(res.status).toBe(202);
      sent.push(eventIdOf(res));
    };
    for (let i = 0; i < 5; i += 1) await send(i);
    await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 10_000 });
    await eventually(async () => expect((await api(gw, 'GET', '/readyz')).status).toBe(200));

    proxy.cut();
    await eventually(async () => expect((await api(gw, 'GET', '/readyz')).status).toBe(503), {
      timeoutMs: 10_000,
    });
    for (let i = 5; i < 65; i += 1) await send(i);
    // accepted while cut: durable in PostgreSQL, not published
    const stored = await gw.schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox',
    );
    expect(stored.rows[0]!.n).toBe(60);
    expect(dedupedIds(tap)).toEqual(sent.slice(0, 5));

    proxy.restore();
    await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 30_000 });
    await eventually(async () => {
      const left = await gw.schema.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox',
      );
      expect(left.rows[0]!.n).toBe(0);
    });
    expect((await api(gw, 'GET', '/readyz')).status).toBe(200);
  });

  it('survives a cut in the middle of a stream of events: none lost, order kept', async () => {
    const before = dedupedIds(tap).length;
    const sent: string[] = [];
    for (let i = 0; i < 120; i += 1) {
      if (i === 40) proxy.cut();
      if (i === 80) proxy.restore();
      const res = await api(gw, 'POST', '/v1.0/event/outage.stream', { i });
      expect(res.status).toBe(202);
      sent.push(eventIdOf(res));
    }
    await eventually(() => expect(dedupedIds(tap).slice(before)).toEqual(sent), {
      timeoutMs: 30_000,
    });
  });
});

describe('gateway started while RabbitMQ is unreachable', () => {
  it('starts, answers 202 and /readyz 503, and publishes everything once the broker answers', async () => {
    const rabbit = new URL((await testServers()).rabbitUrl);
    const proxy = await TcpProxy.start(rabbit.hostname, Number(rabbit.port || 5672));
    proxy.cut();
    const gw = await startTestGateway('broker down at start', {
      rabbitUrl: (url) => proxy.proxiedUrl(url),
    });
    const tap = await EventTap.open(gw.vhost.url);
    try {
      expect(gw.gateway.lifecycle.state).toBe('running');
      expect((await api(gw, 'GET', '/readyz')).status).toBe(503);
      const sent: string[] = [];
      for (let i = 0; i < 10; i += 1) {
        sent.push(eventIdOf(await api(gw, 'POST', '/v1.0/event/down.at.start', { i })));
      }
      proxy.restore();
      await eventually(() => expect(dedupedIds(tap)).toEqual(sent), { timeoutMs: 30_000 });
    } finally {
      await tap.close();
      await gw.close();
      await proxy.close();
    }
  });
});
