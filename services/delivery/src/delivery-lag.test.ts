import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

/** Count and sum of `reten_webhook_delivery_lag_seconds{attempt}` in the service's registry. */
async function lag(d: TestDelivery, attempt: 'first' | 'final') {
  const metric = await d.service.registry
    .getSingleMetric('reten_webhook_delivery_lag_seconds')
    ?.get();
  const value = (name: string) =>
    metric?.values.find(
      (v) => 'metricName' in v && v.metricName === name && v.labels.attempt === attempt,
    )?.value ?? 0;
  return {
    count: value('reten_webhook_delivery_lag_seconds_count'),
    sum: value('reten_webhook_delivery_lag_seconds_sum'),
  };
}

describe('delivery lag histogram', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery lag');
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('measures from acceptance to the first attempt, and through the retries to the delivery that succeeded', async () => {
    // two failures, 1 s apart, then a success: the final lag holds the retries' 2 s
    receiver.respond(() => ({ status: receiver.requestsTo('/lag').length <= 2 ? 500 : 204 }));
    await d.createEndpoint({
      url: receiver.url('/lag'),
      tenantId: 'lag',
      retryScheduleSeconds: [0, 1, 1],
    });
    await d.publish('lag.x', { n: 1 }, 'lag');
    await eventually(async () => expect((await lag(d, 'final')).count).toBe(1), {
      timeoutMs: 20_000,
    });
    expect(receiver.requestsTo('/lag')).toHaveLength(3);
    const first = await lag(d, 'first');
    const final = await lag(d, 'final');
    expect(first.count).toBe(1);
    expect(first.sum).toBeLessThan(1.5);
    expect(final.sum).toBeGreaterThanOrEqual(1.9);
    expect(final.sum).toBeLessThan(30);
  });

  it('observes no final lag for a delivery that failed for good', async () => {
    receiver.respond({ status: 500 });
    const before = await lag(d, 'final');
    const firstBefore = await lag(d, 'first');
    await d.createEndpoint({
      url: receiver.url('/lag-fails'),
      tenantId: 'lag-fails',
      retryScheduleSeconds: [0],
    });
    const ev = await d.publish('lag.y', { n: 1 }, 'lag-fails');
    await eventually(async () => {
      const row = await d.schema.pool.query<{ status: string }>(
        'SELECT status FROM webhook_deliveries WHERE event_id = $1',
        [ev.eventId],
      );
      expect(row.rows).toEqual([{ status: 'failed' }]);
    });
    expect((await lag(d, 'first')).count).toBe(firstBefore.count + 1);
    expect(await lag(d, 'final')).toEqual(before);
  });
});
