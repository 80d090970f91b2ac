import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { counterValue, startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

function deferredFor(d: TestDelivery, reason: string): Promise<number> {
  return counterValue(d, 'reten_webhook_deferred_total', 'reason', reason);
}

describe('delivery service: a backlog larger than an endpoint lane', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery backlog', {
      env: {
        // one request at a time: events without a key then arrive in the order they were sent
        DELIVERY_ENDPOINT_MAX_IN_FLIGHT: '1',
        DELIVERY_ENDPOINT_BACKLOG_MAX: '3',
        DELIVERY_TIMEOUT_MS: '3000',
        DELIVERY_RETRY_SCHEDULE_SECONDS: '0',
      },
    });
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('drains a queue that built up while the service was away at the endpoint pace, in order, deferring nothing', async () => {
    receiver.respond({ status: 204, delayMs: 5 });
    await d.createEndpoint({ url: receiver.url('/burst'), tenantId: 'burst' });
    await d.stopService();
    const events = [];
    for (let i = 0; i < 40; i++) events.push(await d.publish('burst.x', { i }, 'burst'));
    await d.restartService();
    await eventually(() => expect(receiver.requestsTo('/burst')).toHaveLength(40), {
      timeoutMs: 20_000,
    });
    expect(receiver.requestsTo('/burst').map((r) => r.headers['x-reten-event-id'])).toEqual(
      events.map((e) => e.eventId),
    );
    expect(await deferredFor(d, 'backlog')).toBe(0);
  });

  it('still defers the deliveries of a hanging endpoint whose lane is full, so the others keep their pace', async () => {
    receiver.respond((req) => (req.path === '/hung' ? { hang: true } : { status: 204 }));
    await d.createEndpoint({ url: receiver.url('/hung'), tenantId: 'hung' });
    await d.createEndpoint({ url: receiver.url('/fine'), tenantId: 'hung' });
    const started = Date.now();
    for (let i = 0; i < 20; i++) await d.publish('hung.x', { i }, 'hung');
    await eventually(() => expect(receiver.requestsTo('/fine')).toHaveLength(20), {
      timeoutMs: 20_000,
    });
    // waiting for room in the hung lane would take a 3 s timeout per delivery after the fourth
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(await deferredFor(d, 'backlog')).toBeGreaterThan(0);
  });
});
