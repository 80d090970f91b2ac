import amqplib from 'amqplib';
import {
  DELIVERY_EVENTS_QUEUE,
  DELIVERY_QUEUE,
  DELIVERY_TOPOLOGY,
  EVENTS_EXCHANGE,
} from '@reten/contracts';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

describe('delivery service: upgrading a broker from before the event queue', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery upgrade', { inProcess: false });
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('delivers what waited in the old reten.delivery, then routes events to reten.delivery.events only', async () => {
    // the topology of the previous version: reten.delivery bound to every event
    const conn = await amqplib.connect(d.vhost.url);
    const ch = await conn.createChannel();
    await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    const old = DELIVERY_TOPOLOGY.queues.find((q) => q.name === DELIVERY_QUEUE);
    await ch.assertQueue(DELIVERY_QUEUE, { durable: true, arguments: old?.arguments });
    await ch.bindQueue(DELIVERY_QUEUE, EVENTS_EXCHANGE, '#');
    await conn.close();
    await d.createEndpoint({ url: receiver.url('/upgrade'), tenantId: 'upgrade' });
    const before = await d.publish('upgrade.x', { i: 0 }, 'upgrade');
    expect(await d.queueDepth(DELIVERY_QUEUE)).toBe(1);

    await d.restartService();
    const after = await d.publish('upgrade.x', { i: 1 }, 'upgrade');
    await eventually(() => expect(receiver.requestsTo('/upgrade')).toHaveLength(2), {
      timeoutMs: 20_000,
    });
    expect(receiver.requestsTo('/upgrade').map((r) => r.headers['x-reten-event-id'])).toEqual([
      before.eventId,
      after.eventId,
    ]);
    // the old binding is gone: with the service stopped, an event waits in the event queue only
    await d.stopService();
    await d.publish('upgrade.x', { i: 2 }, 'upgrade');
    expect(await d.queueDepth(DELIVERY_QUEUE)).toBe(0);
    expect(await d.queueDepth(DELIVERY_EVENTS_QUEUE)).toBe(1);
    const rows = await d.schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_attempts',
    );
    expect(rows.rows[0]?.n).toBe(2);
  });
});
