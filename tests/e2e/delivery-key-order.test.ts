import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import {
  orderViolations,
  recordArrivals,
  seededRandom,
} from '../../services/delivery/src/key-order-check';
import { startTestDelivery } from '../../services/delivery/src/test-fixture';
import type { TestDelivery } from '../../services/delivery/src/test-fixture';
import { deliveryRedisPrefix, startDeliveryProcess } from './delivery-process';
import type { DeliveryProcess } from './delivery-process';

const ENV = {
  DELIVERY_RETRY_SCHEDULE_SECONDS: '0,0.1,0.1,0.1,0.1,0.1',
  DELIVERY_TIMEOUT_MS: '5000',
};

async function succeeded(d: TestDelivery, endpointId: string): Promise<number> {
  const res = await d.schema.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`,
    [endpointId],
  );
  return res.rows[0]?.n ?? 0;
}

describe('delivery processes: ordering keys with two replicas', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;
  const processes: DeliveryProcess[] = [];
  const prefix = deliveryRedisPrefix('e2e key order');

  beforeAll(async () => {
    d = await startTestDelivery('e2e key order', { inProcess: false });
    receiver = await webhookReceiver();
  });

  afterEach(async () => {
    for (const p of processes.splice(0)) await p.process.kill('SIGTERM');
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('keeps each key in publish order across failures when the active replica is killed (SIGKILL) midway (5,000 events, 50 keys)', async () => {
    const random = seededRandom(7);
    const arrivals = recordArrivals(receiver, '/keys', (_req, first) =>
      first && random() < 0.2 ? { status: 500 } : { status: 204 },
    );
    // the first replica to attach is the active consumer of the event queue
    processes.push(await startDeliveryProcess(d.schema, d.vhost, prefix, ENV));
    processes.push(await startDeliveryProcess(d.schema, d.vhost, prefix, ENV));
    const ep = await d.createEndpoint({
      url: receiver.url('/keys'),
      tenantId: 'keys',
      rateLimitPerSecond: 10_000,
    });
    const events = await d.publishMany(
      Array.from({ length: 5000 }, (_, i) => ({
        type: 'order.changed',
        data: { i },
        tenantId: 'keys',
        orderingKey: `k${i % 50}`,
      })),
    );
    await eventually(async () => expect(await succeeded(d, ep.id)).toBeGreaterThan(1500), {
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    await processes[0]?.process.kill('SIGKILL');
    await eventually(async () => expect(await succeeded(d, ep.id)).toBe(5000), {
      timeoutMs: 240_000,
      intervalMs: 500,
    });
    const keys = events.map((e) => ({
      eventId: e.eventId,
      orderingKey: e.message.orderingKey as string,
    }));
    expect(orderViolations(keys, arrivals)).toEqual([]);
  }, 420_000);

  it('without keys and one request in flight per endpoint, a sequential producer’s events reach the endpoint in publish order through two replicas', async () => {
    const env = { ...ENV, DELIVERY_ENDPOINT_MAX_IN_FLIGHT: '1' };
    processes.push(await startDeliveryProcess(d.schema, d.vhost, prefix, env));
    processes.push(await startDeliveryProcess(d.schema, d.vhost, prefix, env));
    const arrivals = recordArrivals(receiver, '/plain');
    await d.createEndpoint({ url: receiver.url('/plain'), tenantId: 'plain' });
    const published: string[] = [];
    for (let i = 0; i < 300; i++) {
      published.push((await d.publish('order.changed', { i }, 'plain')).eventId);
    }
    await eventually(() => expect(arrivals).toHaveLength(300), { timeoutMs: 60_000 });
    expect(arrivals.map((a) => a.eventId)).toEqual(published);
  }, 120_000);
});
