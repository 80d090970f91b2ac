import { createLogger } from '@reten/observability';
import { Webhook } from 'standardwebhooks';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { verifyWebhook } from '@reten/webhooks';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

interface DeliveryRowView {
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
}

async function deliveryOf(d: TestDelivery, endpointId: string, eventId: string) {
  const res = await d.schema.pool.query<DeliveryRowView>(
    `SELECT status, attempts, last_status_code, last_error FROM webhook_deliveries
      WHERE endpoint_id = $1 AND event_id = $2`,
    [endpointId, eventId],
  );
  return res.rows[0];
}

describe('delivery service: signed POSTs and retries', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery signed', {
      env: { DELIVERY_RETRY_SCHEDULE_SECONDS: '0,0.2,0.2', DELIVERY_TIMEOUT_MS: '1000' },
      ...(process.env.DEBUG_DELIVERY
        ? {
            log: createLogger({ service: 'delivery', level: 'debug', destination: process.stderr }),
          }
        : {}),
    });
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('POSTs the envelope byte for byte with signatures that verifyWebhook and the standardwebhooks library accept', async () => {
    receiver.respond({ status: 204 });
    const ep = await d.createEndpoint({ url: receiver.url('/signed'), eventTypes: ['order.*'] });
    const ev = await d.publish('order.created', { order_id: 'ord_1' });
    const req = await eventually(() => {
      const r = receiver.requestsTo('/signed')[0];
      expect(r).toBeDefined();
      return r!;
    });
    expect(req.method).toBe('POST');
    expect(req.rawBody).toBe(ev.json);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^Reten-Webhooks\/\d+\.\d+\.\d+/);
    expect(req.headers['x-reten-event-id']).toBe(ev.eventId);
    expect(req.headers['x-reten-event-type']).toBe('order.created');
    expect(req.headers['webhook-id']).toMatch(/^dlv_/);
    expect(verifyWebhook(req.rawBody, req.headers, ep.secret!)).toEqual(JSON.parse(ev.json));
    expect(new Webhook(ep.secret!).verify(req.rawBody, req.headers)).toEqual(JSON.parse(ev.json));
    // X-Reten-Signature alone (keyed with the whole whsec_ string) verifies too
    const { 'webhook-signature': _sig, ...retenOnly } = req.headers;
    expect(verifyWebhook(req.rawBody, retenOnly, ep.secret!)).toEqual(JSON.parse(ev.json));
    await eventually(async () =>
      expect(await deliveryOf(d, ep.id, ev.eventId)).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        last_status_code: 204,
      }),
    );
  });

  it('skips endpoints whose filters do not match and endpoints that are disabled', async () => {
    receiver.respond({ status: 204 });
    const other = await d.createEndpoint({ url: receiver.url('/other'), eventTypes: ['user.*'] });
    const off = await d.createEndpoint({ url: receiver.url('/off'), enabled: false });
    const all = await d.createEndpoint({ url: receiver.url('/all') });
    const ev = await d.publish('invoice.paid', { n: 1 });
    await eventually(() => expect(receiver.requestsTo('/all')).toHaveLength(1));
    expect(receiver.requestsTo('/other')).toHaveLength(0);
    expect(receiver.requestsTo('/off')).toHaveLength(0);
    // (the first attempt stores its row once the receiver answered)
    await eventually(async () => expect(await deliveryOf(d, all.id, ev.eventId)).toBeDefined());
    expect(await deliveryOf(d, other.id, ev.eventId)).toBeUndefined();
    expect(await deliveryOf(d, off.id, ev.eventId)).toBeUndefined();
  });

  it('retries a 500 through the retry tiers with the same webhook-id and succeeds on the third attempt', async () => {
    receiver.respond(() => ({
      status: receiver.requestsTo('/flaky').length <= 2 ? 500 : 200,
      body: 'boom',
    }));
    const ep = await d.createEndpoint({
      url: receiver.url('/flaky'),
      eventTypes: ['flaky.x'],
      tenantId: 'flaky',
    });
    const ev = await d.publish('flaky.x', { n: 1 }, 'flaky');
    await eventually(() => expect(receiver.requestsTo('/flaky')).toHaveLength(3), {
      timeoutMs: 15_000,
    });
    const ids = new Set(receiver.requestsTo('/flaky').map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    await eventually(async () =>
      expect(await deliveryOf(d, ep.id, ev.eventId)).toMatchObject({
        status: 'succeeded',
        attempts: 3,
      }),
    );
    const attempts = await d.schema.pool.query<{
      attempt: number;
      status_code: number;
      phase: string | null;
      response_excerpt: string | null;
    }>(
      `SELECT a.attempt, a.status_code, a.phase, a.response_excerpt FROM webhook_attempts a
         JOIN webhook_deliveries w ON w.id = a.delivery_id
        WHERE w.endpoint_id = $1 ORDER BY a.attempt`,
      [ep.id],
    );
    expect(attempts.rows).toEqual([
      { attempt: 1, status_code: 500, phase: 'status', response_excerpt: 'boom' },
      { attempt: 2, status_code: 500, phase: 'status', response_excerpt: 'boom' },
      { attempt: 3, status_code: 200, phase: null, response_excerpt: 'boom' },
    ]);
  });

  it('stores a delivery as failed after the last attempt of the schedule', async () => {
    receiver.respond({ status: 503 });
    const ep = await d.createEndpoint({
      url: receiver.url('/down'),
      eventTypes: ['down.x'],
      tenantId: 'down',
    });
    const ev = await d.publish('down.x', {}, 'down');
    await eventually(
      async () =>
        expect(await deliveryOf(d, ep.id, ev.eventId)).toMatchObject({
          status: 'failed',
          attempts: 3,
          last_status_code: 503,
        }),
      { timeoutMs: 15_000 },
    );
    expect(receiver.requestsTo('/down')).toHaveLength(3);
  });
});
