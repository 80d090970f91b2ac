import { WebhookEndpointRepo } from '@reten/store';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { counterValue, startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

describe('delivery service: an endpoint deleted while its request is in flight', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery endpoint delete');
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('ends the attempt without storing it, keeps storing the others, and leaves no row of the endpoint', async () => {
    let answered = 0;
    receiver.respond((req) => {
      if (req.path !== '/gone') return {};
      answered += 1;
      return { status: 204, delayMs: 600 };
    });
    const gone = await d.createEndpoint({ url: receiver.url('/gone'), eventTypes: ['gone.*'] });
    const live = await d.createEndpoint({ url: receiver.url('/live'), eventTypes: ['live.*'] });
    await d.publish('gone.created', { n: 1 });
    await eventually(() => expect(answered).toBe(1));
    expect(await new WebhookEndpointRepo(d.schema.pool).delete('dev', gone.id)).toBe(true);
    // its outcome is handled once the receiver answers: before, storing it failed (the row's
    // foreign key), and so did each retry, with every outcome batched with it
    await eventually(async () =>
      expect(await counterValue(d, 'reten_webhook_deliveries_total', 'status', 'succeeded')).toBe(
        1,
      ),
    );
    expect(await counterValue(d, 'reten_delivery_errors_total', 'kind', 'record')).toBe(0);
    const after = await d.publish('live.created', { n: 2 });
    await eventually(async () => {
      const res = await d.schema.pool.query(
        `SELECT status, (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = w.id) AS recorded
           FROM webhook_deliveries w WHERE endpoint_id = $1 AND event_id = $2`,
        [live.id, after.eventId],
      );
      expect(res.rows).toEqual([{ status: 'succeeded', recorded: 1 }]);
    });
    const left = await d.schema.pool.query(
      `SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE endpoint_id = $1) AS deliveries,
              (SELECT count(*)::int FROM webhook_attempts WHERE endpoint_id = $1) AS attempts`,
      [gone.id],
    );
    expect(left.rows[0]).toEqual({ deliveries: 0, attempts: 0 });
    expect(receiver.requestsTo('/gone')).toHaveLength(1);
  });
});
