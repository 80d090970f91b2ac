import { WebhookDeliveryRepo, WebhookEndpointRepo, newPrefixedId } from '@reten/store';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import {
  orderViolations,
  othersDeliveredWhileHeld,
  recordArrivals,
  seededRandom,
} from './key-order-check';

import { startTestDelivery } from './test-fixture';
import type { PublishedEvent, TestDelivery } from './test-fixture';

/** `count` events of type `type`, spread round-robin over `keys` keys named `<prefix><n>`. */
function keyed(count: number, keys: number, prefix: string, tenantId: string) {
  return Array.from({ length: count }, (_, i) => ({
    type: 'order.changed',
    data: { i },
    tenantId,
    orderingKey: `${prefix}${i % keys}`,
  }));
}

function publishedKeys(events: PublishedEvent[]) {
  return events.map((e) => ({
    eventId: e.eventId,
    orderingKey: e.message.orderingKey as string,
  }));
}

async function statuses(d: TestDelivery, endpointId: string): Promise<Record<string, number>> {
  const res = await d.schema.pool.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY 1',
    [endpointId],
  );
  return Object.fromEntries(res.rows.map((r) => [r.status, r.n]));
}

describe('delivery service: ordering keys', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery key order', {
      env: {
        DELIVERY_RETRY_SCHEDULE_SECONDS: '0,0.1,0.1,0.1,0.1,0.1',
        // these tests fail requests on purpose; the circuit breaker has its own tests
        DELIVERY_BREAKER_FAILURES: '100000',
        DELIVERY_TIMEOUT_MS: '5000',
      },
    });
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('delivers each key in publish order while 20 % of first attempts fail, and other keys flow meanwhile (5,000 events, 50 keys)', async () => {
    const random = seededRandom(16);
    const arrivals = recordArrivals(receiver, '/keys', (_req, first) =>
      first && random() < 0.2 ? { status: 500 } : { status: 204 },
    );
    const ep = await d.createEndpoint({
      url: receiver.url('/keys'),
      tenantId: 'keys',
      rateLimitPerSecond: 10_000,
    });
    const events = await d.publishMany(keyed(5000, 50, 'k', 'keys'));
    await eventually(async () => expect(await statuses(d, ep.id)).toEqual({ succeeded: 5000 }), {
      timeoutMs: 280_000,
      intervalMs: 500,
    });
    expect(orderViolations(publishedKeys(events), arrivals)).toEqual([]);
    expect(arrivals.filter((a) => !a.succeeded).length).toBeGreaterThan(500);
    // and in Reten's own history: exactly one succeeded attempt per delivery
    const ok = await d.schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_attempts WHERE endpoint_id = $1 AND succeeded',
      [ep.id],
    );
    expect(ok.rows[0]?.n).toBe(5000);
    // while a key waited for its failed event's retry, other keys' events kept arriving
    expect(othersDeliveredWhileHeld(arrivals)).toBeGreaterThan(1000);
  }, 300_000);

  it('holds only the key whose receiver hangs: the other keys are all delivered meanwhile, then that key in order', async () => {
    let hanging = true;
    const arrivals = recordArrivals(receiver, '/hang', (req) =>
      hanging && req.rawBody.includes('"ordering_key":"h0"') ? { hang: true } : { status: 204 },
    );
    const ep = await d.createEndpoint({ url: receiver.url('/hang'), tenantId: 'hang' });
    const events = await d.publishMany(keyed(200, 10, 'h', 'hang'));
    const others = events.filter((e) => e.message.orderingKey !== 'h0').map((e) => e.eventId);
    await eventually(
      () => {
        const ok = new Set(arrivals.filter((a) => a.succeeded).map((a) => a.eventId));
        expect(others.filter((id) => !ok.has(id))).toEqual([]);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // h0 got its first event only (hanging, then retried): nothing after it was sent
    const h0 = arrivals.filter((a) => a.orderingKey === 'h0');
    expect(new Set(h0.map((a) => a.eventId)).size).toBe(1);
    hanging = false;
    await eventually(async () => expect(await statuses(d, ep.id)).toEqual({ succeeded: 200 }), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(orderViolations(publishedKeys(events), arrivals)).toEqual([]);
  }, 120_000);

  it('disables the endpoint that answers 410 to one key’s event; another endpoint keeps every key in order', async () => {
    // every other path answers 204 and is not recorded
    const arrivals = recordArrivals(receiver, '/good', (req) =>
      req.path === '/gone' && req.rawBody.includes('"ordering_key":"g1"')
        ? { status: 410 }
        : { status: 204 },
    );
    const good = await d.createEndpoint({ url: receiver.url('/good'), tenantId: 'gone' });
    const bad = await d.createEndpoint({ url: receiver.url('/gone'), tenantId: 'gone' });
    const events = await d.publishMany(keyed(100, 5, 'g', 'gone'));
    await eventually(async () => expect(await statuses(d, good.id)).toEqual({ succeeded: 100 }), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(orderViolations(publishedKeys(events), arrivals)).toEqual([]);
    const endpoint = await d.schema.pool.query<{ enabled: boolean }>(
      'SELECT enabled FROM webhook_endpoints WHERE id = $1',
      [bad.id],
    );
    expect(endpoint.rows[0]?.enabled).toBe(false);
  }, 90_000);

  it('with on_failure block, holds a key after a final failure until the operator retries it, or sets the endpoint back to skip', async () => {
    let healed = false;
    const arrivals = recordArrivals(receiver, '/block', (req) => {
      const body = JSON.parse(req.rawBody) as { ordering_key: string; data: { i: number } };
      const { ordering_key: key, data } = body;
      const fails = (key === 'b0' && data.i === 3 && !healed) || (key === 'c1' && data.i === 4);
      return fails ? { status: 500 } : { status: 204 };
    });
    const ep = await d.createEndpoint({
      url: receiver.url('/block'),
      tenantId: 'block',
      onFailure: 'block',
      retryScheduleSeconds: [0],
    });
    // b0 gets i = 0, 3, …, 39: i = 3 fails for good and holds the 12 after it; b1, b2 flow
    const events = await d.publishMany(keyed(40, 3, 'b', 'block'));
    await eventually(
      async () => expect(await statuses(d, ep.id)).toEqual({ succeeded: 27, failed: 1, held: 12 }),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const failed = await d.schema.pool.query<{ id: string }>(
      `SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'failed'`,
      [ep.id],
    );
    healed = true;
    const deliveries = new WebhookDeliveryRepo(d.schema.pool, d.schema.schema, () =>
      newPrefixedId('dlv'),
    );
    await deliveries.requestRetry('block', failed.rows[0]?.id ?? '');
    await eventually(async () => expect(await statuses(d, ep.id)).toEqual({ succeeded: 40 }), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(orderViolations(publishedKeys(events), arrivals)).toEqual([]);

    // c1 gets i = 1, 4, …, 37: i = 4 fails for good and holds 11; the operator lets it go
    const more = await d.publishMany(keyed(40, 3, 'c', 'block'));
    await eventually(
      async () => expect(await statuses(d, ep.id)).toEqual({ succeeded: 68, failed: 1, held: 11 }),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await new WebhookEndpointRepo(d.schema.pool, d.schema.schema).update('block', ep.id, {
      onFailure: 'skip',
    });
    await eventually(
      async () => expect(await statuses(d, ep.id)).toEqual({ succeeded: 79, failed: 1 }),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const c1Failed = more.filter((e) => e.message.orderingKey === 'c1')[1]?.eventId;
    expect(
      orderViolations(
        publishedKeys(more.filter((e) => e.eventId !== c1Failed)),
        arrivals.filter((a) => a.eventId !== c1Failed && a.orderingKey?.startsWith('c')),
      ),
    ).toEqual([]);
  }, 120_000);

  it('replays an endpoint’s deliveries with each key in event order', async () => {
    const arrivals = recordArrivals(receiver, '/replay');
    const ep = await d.createEndpoint({ url: receiver.url('/replay'), tenantId: 'replay' });
    const events = await d.publishMany(keyed(300, 10, 'r', 'replay'));
    await eventually(async () => expect(await statuses(d, ep.id)).toEqual({ succeeded: 300 }), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    arrivals.length = 0;
    const deliveries = new WebhookDeliveryRepo(d.schema.pool, d.schema.schema, () =>
      newPrefixedId('dlv'),
    );
    const queued = await deliveries.replay(
      'replay',
      { id: ep.id, eventTypes: [] },
      new Date(0),
      false,
    );
    expect(queued).toBe(300);
    await eventually(() => expect(arrivals.filter((a) => a.succeeded)).toHaveLength(300), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(orderViolations(publishedKeys(events), arrivals)).toEqual([]);
  }, 120_000);
});
