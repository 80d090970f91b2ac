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

  beforeAll(async () => {
    d = await startTestDelivery('delivery in flight', {
      env: {
        DELIVERY_ENDPOINT_MIN_IN_FLIGHT: '2',
        DELIVERY_ENDPOINT_MAX_IN_FLIGHT: '6',
        DELIVERY_ENDPOINT_LATENCY_MS: '200',
      },
    });
    receiver = await webhookReceiver();
    receiver.respond({ status: 204, delayMs: 500 });
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
});
