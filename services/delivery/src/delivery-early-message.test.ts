import amqplib from 'amqplib';
import { encodeTargetedMessage } from '@reten/broker';
import { DELIVERY_QUEUE } from '@reten/contracts';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { counterValue, startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';
import { successorToken } from './tokens';

/** How often this process sent a retry message back because its row did not hold its token yet. */
function earlyDeferrals(d: TestDelivery): Promise<number> {
  return counterValue(d, 'reten_webhook_deferred_total', 'reason', 'early');
}

describe('delivery service: a retry message that arrives before its row says so', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery early message');
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('comes back until the row holds its token (another replica still storing the outcome), then is attempted once', async () => {
    const ep = await d.createEndpoint({ url: receiver.url('/early'), tenantId: 'early' });
    // an event delivered once, as if its attempt had just failed on another replica that
    // published the retry and has not stored the outcome yet
    await d.stopService();
    const event = await d.publish('early.x', { i: 0 }, 'early');
    await d.restartService();
    await eventually(() => expect(receiver.requestsTo('/early')).toHaveLength(1));
    // its outcome stored (the first attempt inserts the row once the receiver answered)
    await eventually(async () => {
      const row = await d.schema.pool.query<{ status: string }>(
        'SELECT status FROM webhook_deliveries WHERE endpoint_id = $1',
        [ep.id],
      );
      expect(row.rows[0]?.status).toBe('succeeded');
    });
    const res = await d.schema.pool.query<{ id: string; token: string | null }>(
      `UPDATE webhook_deliveries SET status = 'retrying', token = 'before-the-attempt'
        WHERE endpoint_id = $1 RETURNING id`,
      [ep.id],
    );
    const deliveryId = res.rows[0]?.id ?? '';
    const next = successorToken('before-the-attempt');
    const conn = await amqplib.connect(d.vhost.url);
    const ch = await conn.createConfirmChannel();
    const m = encodeTargetedMessage(
      { deliveryId, tenantId: 'early', token: next, dueAt: 0, body: Buffer.from(event.json) },
      DELIVERY_QUEUE,
    );
    ch.publish(m.exchange, m.routingKey, m.content, m.options);
    await ch.waitForConfirms();
    await conn.close();
    // the message is read, sent back without an attempt, read again and sent back again:
    // it keeps coming back while the row still holds the predecessor
    await eventually(async () => expect(await earlyDeferrals(d)).toBeGreaterThanOrEqual(2), {
      timeoutMs: 10_000,
    });
    expect(receiver.requestsTo('/early')).toHaveLength(1);
    // the other replica stores the outcome (and the new token) only now
    await d.schema.pool.query('UPDATE webhook_deliveries SET token = $2 WHERE id = $1', [
      deliveryId,
      next,
    ]);
    await eventually(() => expect(receiver.requestsTo('/early')).toHaveLength(2), {
      timeoutMs: 10_000,
    });
    await eventually(async () => {
      const row = await d.schema.pool.query<{ status: string }>(
        'SELECT status FROM webhook_deliveries WHERE id = $1',
        [deliveryId],
      );
      expect(row.rows[0]?.status).toBe('succeeded');
    });
    // and attempted once
    expect(receiver.requestsTo('/early')).toHaveLength(2);
  });
});
