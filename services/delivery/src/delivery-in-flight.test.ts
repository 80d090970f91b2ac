import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

/**
 * Requests in flight per endpoint follow its rate limit: ceil(rate × latency) between the floor
 * and the ceiling. Counted at a real receiver that holds every request 500 ms: a request is
 * open from its arrival to its answer, and the sender cannot send the next one before it sees
 * that answer, so the count can only reach what the service allows.
 */
describe('delivery service: requests in flight per endpoint', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;
  let failing = true;

  beforeAll(async () => {
    d = await startTestDelivery('delivery in flight', {
      env: {
        DELIVERY_ENDPOINT_MIN_IN_FLIGHT: '2',
        DELIVERY_ENDPOINT_MAX_IN_FLIGHT: '6',
        DELIVERY_ENDPOINT_LATENCY_MS: '200',
        // the failing endpoint below must keep being attempted (the circuit is another test's)
        DELIVERY_BREAKER_FAILURES: '1000',
      },
    });
    receiver = await webhookReceiver();
    receiver.respond((req) => ({
      status: req.path === '/failing' && failing ? 500 : 204,
      delayMs: 500,
    }));
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('gives each endpoint ceil(rate × 200 ms) requests at once, at least the floor and at most the ceiling', async () => {
    const endpoints = [
      // 10/s × 0.2 s = 2: the floor; 20/s: 4; 1,000/s would be 200: the ceiling, 6
      { path: '/slow', rate: 10, expected: 2 },
      { path: '/mid', rate: 20, expected: 4 },
      { path: '/fast', rate: 1000, expected: 6 },
    ];
    for (const e of endpoints) {
      await d.createEndpoint({
        url: receiver.url(e.path),
        eventTypes: [`inflight${e.path.replace('/', '.')}`],
        rateLimitPerSecond: e.rate,
      });
    }
    const perEndpoint = 10;
    await d.publishMany(
      endpoints.flatMap((e) =>
        Array.from({ length: perEndpoint }, (_, n) => ({
          type: `inflight${e.path.replace('/', '.')}`,
          data: { n },
        })),
      ),
    );
    await eventually(
      () => {
        for (const e of endpoints) expect(receiver.requestsTo(e.path)).toHaveLength(perEndpoint);
      },
      { timeoutMs: 20_000 },
    );
    expect(endpoints.map((e) => receiver.maxOpen(e.path))).toEqual(
      endpoints.map((e) => e.expected),
    );
  });

  it('gives an endpoint whose last attempt failed the floor until one succeeds', async () => {
    const path = '/failing';
    await d.createEndpoint({
      url: receiver.url(path),
      eventTypes: ['failing.*'],
      rateLimitPerSecond: 1000,
    });
    const publish = (n: number) =>
      d.publishMany(
        Array.from({ length: n }, (_, i) => ({ type: 'failing.created', data: { i } })),
      );
    const failedAttempts = async () => {
      const metric = await d.service.registry
        .getSingleMetric('reten_webhook_attempts_total')
        ?.get();
      return (metric?.values ?? [])
        .filter((v) => v.labels.result !== 'succeeded')
        .reduce((n, v) => n + v.value, 0);
    };

    // healthy until its first answer: the ceiling
    await publish(6);
    await eventually(async () => expect(await failedAttempts()).toBe(6), { timeoutMs: 20_000 });
    expect(receiver.maxOpen(path)).toBe(6);
    // failing: the floor, for new events and retries alike
    const firstFailing = receiver.requestsTo(path).length;
    await publish(8);
    await eventually(async () => expect(await failedAttempts()).toBeGreaterThanOrEqual(14), {
      timeoutMs: 20_000,
    });
    const whileFailing = receiver.requestsTo(path).slice(firstFailing);
    expect(Math.max(...whileFailing.map((r) => r.openOnArrival))).toBe(2);
    // it answers again: once an attempt succeeds, the ceiling again
    failing = false;
    const firstHealthy = receiver.requestsTo(path).length;
    const healthy = await publish(12);
    await eventually(
      async () => {
        const res = await d.schema.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_deliveries
            WHERE event_id = ANY($1::text[]) AND status = 'succeeded'`,
          [healthy.map((e) => e.eventId)],
        );
        expect(res.rows[0]!.n).toBe(12);
      },
      { timeoutMs: 20_000 },
    );
    const afterRecovery = receiver.requestsTo(path).slice(firstHealthy);
    expect(Math.max(...afterRecovery.map((r) => r.openOnArrival))).toBe(6);
  });
});
