import { DELIVERY_EVENTS_QUEUE } from '@reten/contracts';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

/**
 * A stop with a full prefetch window: the drain finishes the requests begun and gives back the
 * messages not started, instead of sending the whole window at the endpoints' pace first.
 */
describe('delivery service: stopping with messages not started', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery shutdown', {
      env: {
        // one request at a time: keyless events arrive in the order they were published
        DELIVERY_ENDPOINT_MAX_IN_FLIGHT: '1',
        DELIVERY_ENDPOINT_BACKLOG_MAX: '3',
        // long enough to send all 40 below: what is not sent is what the stop gave back
        SHUTDOWN_DRAIN_TIMEOUT_MS: '60000',
      },
    });
    receiver = await webhookReceiver();
    receiver.respond({ status: 204, delayMs: 150 });
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('finishes the requests it began, leaves the rest queued for the next consumer, and none is sent twice or out of order', async () => {
    await d.createEndpoint({ url: receiver.url('/slow'), tenantId: 'stopping' });
    await d.stopService();
    const events = await d.publishMany(
      Array.from({ length: 40 }, (_, i) => ({
        type: 'stopping.x',
        data: { i },
        tenantId: 'stopping',
      })),
    );
    await d.restartService();
    await eventually(() => expect(receiver.requestsTo('/slow').length).toBeGreaterThanOrEqual(2));
    await d.stopService();
    const sent = receiver.requestsTo('/slow').length;
    // 150 ms per request, one at a time: sending the whole window would have taken 6 s
    expect(sent).toBeLessThan(40);
    await eventually(async () =>
      expect(await d.queueDepth(DELIVERY_EVENTS_QUEUE)).toBe(events.length - sent),
    );
    await d.restartService();
    await eventually(() => expect(receiver.requestsTo('/slow')).toHaveLength(events.length), {
      timeoutMs: 30_000,
    });
    expect(receiver.requestsTo('/slow').map((r) => r.headers['x-reten-event-id'])).toEqual(
      events.map((e) => e.eventId),
    );
  });
});
