import { TcpProxy, eventually, testServers, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

// A stall is a peer that stops answering without closing anything (a dead host, a dropped
// route): no reset, no FIN. Each test stalls one server under a running service, checks what
// /readyz says meanwhile, then checks that the service recovers by itself within a bound.

/** How long after a stall ends the service must be back to delivering. */
const RECOVERY_BOUND_MS = 30_000;

async function readiness(d: TestDelivery): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${d.service.port}/readyz`, {
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: await res.json() };
}

async function proxyFor(url: string, defaultPort: number): Promise<TcpProxy> {
  const u = new URL(url);
  return TcpProxy.start(u.hostname, Number(u.port || defaultPort));
}

describe('delivery service: stalled servers', () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });
  afterAll(async () => {
    await receiver?.close();
  });

  /** Every event POSTed exactly once to `path`. */
  const expectEachOnce = (path: string, eventIds: string[]) => {
    const ids = receiver.requestsTo(path).map((r) => r.headers['x-reten-event-id']);
    expect([...ids].sort()).toEqual([...eventIds].sort());
  };

  it('reports a stalled broker on /readyz and delivers what was published meanwhile once it answers', async () => {
    const proxy = await proxyFor((await testServers()).rabbitUrl, 5672);
    const d = await startTestDelivery('delivery broker stall', {
      rabbitUrl: (url) => proxy.proxiedUrl(url),
      env: { RABBITMQ_HEARTBEAT_SECONDS: '1', DELIVERY_CONFIRM_TIMEOUT_MS: '1000' },
    });
    try {
      await d.createEndpoint({ url: receiver.url('/broker-stall'), tenantId: 'bstall' });
      const events = [await d.publish('stall.x', { i: 0 }, 'bstall')];
      await eventually(() => expect(receiver.requestsTo('/broker-stall')).toHaveLength(1));
      proxy.stall();
      for (let i = 1; i <= 3; i++) events.push(await d.publish('stall.x', { i }, 'bstall'));
      await eventually(
        async () => {
          const r = await readiness(d);
          expect(r.status).toBe(503);
          expect(r.body).toMatchObject({ checks: { rabbitmq: { ok: false } } });
        },
        { timeoutMs: 15_000 },
      );
      proxy.resume();
      await eventually(
        async () => {
          expect(receiver.requestsTo('/broker-stall')).toHaveLength(4);
          expect((await readiness(d)).status).toBe(200);
        },
        { timeoutMs: RECOVERY_BOUND_MS },
      );
      expectEachOnce(
        '/broker-stall',
        events.map((e) => e.eventId),
      );
    } finally {
      await d.close();
      await proxy.close();
    }
  });

  it('reports a stalled PostgreSQL on /readyz, bounds its queries, and delivers everything once it answers', async () => {
    const proxy = await proxyFor((await testServers()).databaseUrl, 5432);
    const d = await startTestDelivery('delivery pg stall', {
      databaseUrl: (url) => proxy.proxiedUrl(url),
      env: { DATABASE_STATEMENT_TIMEOUT_MS: '1000' },
    });
    try {
      await d.createEndpoint({ url: receiver.url('/pg-stall'), tenantId: 'pstall' });
      const events = [await d.publish('stall.x', { i: 0 }, 'pstall')];
      await eventually(() => expect(receiver.requestsTo('/pg-stall')).toHaveLength(1));
      proxy.stall();
      for (let i = 1; i <= 3; i++) events.push(await d.publish('stall.x', { i }, 'pstall'));
      await eventually(
        async () => {
          const r = await readiness(d);
          expect(r.status).toBe(503);
          expect(r.body).toMatchObject({ checks: { postgres: { ok: false } } });
        },
        { timeoutMs: 15_000 },
      );
      // the service's own queries give up rather than wait for the stall to end: reading a
      // message's endpoints or rows (handle), or storing an outcome (record: an event published
      // for the first time goes out with its endpoints cached, and waits to be stored)
      await eventually(
        async () => {
          const failed = await d.service.registry
            .getSingleMetric('reten_delivery_errors_total')
            ?.get();
          const count = (kind: string) =>
            failed?.values.find((v) => v.labels.kind === kind)?.value ?? 0;
          expect(count('handle') + count('record')).toBeGreaterThan(0);
        },
        { timeoutMs: 15_000 },
      );
      proxy.resume();
      await eventually(
        async () => {
          expect(receiver.requestsTo('/pg-stall')).toHaveLength(4);
          expect((await readiness(d)).status).toBe(200);
          const rows = await d.schema.pool.query<{ status: string }>(
            "SELECT status FROM webhook_deliveries WHERE tenant_id = 'pstall'",
          );
          expect(rows.rows.map((r) => r.status)).toEqual(events.map(() => 'succeeded'));
        },
        { timeoutMs: RECOVERY_BOUND_MS },
      );
      expectEachOnce(
        '/pg-stall',
        events.map((e) => e.eventId),
      );
    } finally {
      await d.close();
      await proxy.close();
    }
  });

  it('keeps delivering without a rate limit while Redis stalls (ready all along), and uses Redis again once it answers', async () => {
    const proxy = await proxyFor((await testServers()).redisUrl, 6379);
    const d = await startTestDelivery('delivery redis stall', {
      redisUrl: (url) => proxy.proxiedUrl(url),
    });
    const failOpen = async () =>
      (await d.service.registry.getSingleMetric('reten_rate_limit_fail_open')?.get())?.values[0]
        ?.value;
    try {
      await d.createEndpoint({
        url: receiver.url('/redis-stall'),
        tenantId: 'rstall',
        rateLimitPerSecond: 1,
      });
      const events = [await d.publish('stall.x', { i: 0 }, 'rstall')];
      await eventually(() => expect(receiver.requestsTo('/redis-stall')).toHaveLength(1));
      proxy.stall();
      for (let i = 1; i <= 10; i++) events.push(await d.publish('stall.x', { i }, 'rstall'));
      // at the limit of 1/s these would take 10 s; without Redis they go as soon as it is
      // known to be out (one command timeout)
      await eventually(() => expect(receiver.requestsTo('/redis-stall')).toHaveLength(11), {
        timeoutMs: 6_000,
      });
      expect(await failOpen()).toBe(1);
      expect((await readiness(d)).status).toBe(200);
      proxy.resume();
      // attempts to another endpoint are what tries Redis again
      await d.createEndpoint({ url: receiver.url('/redis-back'), tenantId: 'rback' });
      await eventually(
        async () => {
          await d.publish('stall.x', {}, 'rback');
          expect(await failOpen()).toBe(0);
        },
        { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 500 },
      );
      expectEachOnce(
        '/redis-stall',
        events.map((e) => e.eventId),
      );
    } finally {
      await d.close();
      await proxy.close();
    }
  });
});
