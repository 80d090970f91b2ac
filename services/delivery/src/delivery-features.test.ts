import { Webhook } from 'standardwebhooks';
import { ENDPOINT_DISABLED_EVENT_TYPE } from '@reten/contracts';
import { TcpProxy, eventually, testServers, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { generateSecret, verifyWebhook } from '@reten/webhooks';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

/** The first request the receiver got on `path` (fails while there is none). */
const firstTo = (receiver: WebhookReceiver, path: string) => {
  const req = receiver.requestsTo(path)[0];
  if (!req) throw new Error(`no request to ${path} yet`);
  return req;
};

const statusOf = async (d: TestDelivery, endpointId: string) =>
  (
    await d.schema.pool.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_seq',
      [endpointId],
    )
  ).rows;

describe('delivery service: rate limit, order, signing options', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;
  let n = 0;
  const tenant = () => `tenant${++n}`;

  beforeAll(async () => {
    d = await startTestDelivery('delivery features');
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('holds an endpoint to its rate limit (± 10 %) without dropping events or counting attempts', async () => {
    const t = tenant();
    const ep = await d.createEndpoint({
      url: receiver.url('/rate'),
      tenantId: t,
      rateLimitPerSecond: 20,
    });
    // all at once: the limit, not the publisher's pace on a busy machine, sets the rate
    await d.publishMany(
      Array.from({ length: 50 }, (_, i) => ({ type: 'rate.x', data: { i }, tenantId: t })),
    );
    await eventually(() => expect(receiver.requestsTo('/rate')).toHaveLength(50), {
      timeoutMs: 15_000,
    });
    const times = receiver.requestsTo('/rate').map((r) => r.receivedAt);
    const rate = (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1000);
    expect(rate).toBeGreaterThanOrEqual(18);
    expect(rate).toBeLessThanOrEqual(22);
    // the last outcomes are stored just after their responses arrived
    await eventually(async () => {
      const rows = await statusOf(d, ep.id);
      expect(rows).toHaveLength(50);
      expect(rows.filter((r) => r.status !== 'succeeded' || r.attempts !== 1)).toEqual([]);
    });
  });

  it('sends the events of one ordering key to an endpoint in publish order', async () => {
    const t = tenant();
    await d.createEndpoint({ url: receiver.url('/order'), tenantId: t });
    for (let i = 0; i < 40; i++) await d.publish('order.x', { i }, t, { orderingKey: 'ord_1' });
    await eventually(() => expect(receiver.requestsTo('/order')).toHaveLength(40), {
      timeoutMs: 15_000,
    });
    const seen = receiver
      .requestsTo('/order')
      .map((r) => (JSON.parse(r.rawBody) as { data: { i: number } }).data.i);
    expect(seen).toEqual([...Array(40).keys()]);
  });

  it('signs with both secrets during a rotation grace period; each verifies on its own', async () => {
    const t = tenant();
    const ep = await d.createEndpoint({ url: receiver.url('/rotated'), tenantId: t });
    const next = generateSecret();
    await d.schema.pool.query(
      `UPDATE webhook_endpoints SET previous_secret = secret, secret = $2,
              previous_secret_expires_at = now() + interval '1 hour' WHERE id = $1`,
      [ep.id, next],
    );
    await d.publish('rotate.x', {}, t);
    const req = await eventually(() => firstTo(receiver, '/rotated'));
    expect(req.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(req.headers['x-reten-signature']!.split(',')).toHaveLength(2);
    for (const secret of [ep.secret!, next]) {
      expect(verifyWebhook(req.rawBody, req.headers, secret)).toBeDefined();
      expect(new Webhook(secret).verify(req.rawBody, req.headers)).toBeDefined();
    }
  });

  it('signs an ed25519 endpoint with v1a, verifiable with the published public key only', async () => {
    const t = tenant();
    const ep = await d.createEndpoint({
      url: receiver.url('/ed'),
      tenantId: t,
      signing: 'ed25519',
    });
    await d.publish('ed.x', { ok: true }, t);
    const req = await eventually(() => firstTo(receiver, '/ed'));
    expect(req.headers['webhook-signature']).toMatch(/^v1a,/);
    expect(req.headers['x-reten-signature']).toBeUndefined();
    expect(verifyWebhook(req.rawBody, req.headers, ep.publicKey!)).toMatchObject({
      data: { ok: true },
    });
    const tampered = req.rawBody.replace('true', 'false');
    expect(() => verifyWebhook(tampered, req.headers, ep.publicKey!)).toThrow(/signature/);
  });

  it('adds the endpoint custom headers but never lets them replace Reten headers', async () => {
    const t = tenant();
    await d.createEndpoint({
      url: receiver.url('/custom'),
      tenantId: t,
      // the API refuses reserved names; a row holding one anyway still loses to ours
      headers: { 'x-team': 'payments', 'User-Agent': 'evil', 'X-Reten-Event-Id': 'forged' },
    });
    await d.publish('custom.x', {}, t);
    const req = await eventually(() => firstTo(receiver, '/custom'));
    expect(req.headers['x-team']).toBe('payments');
    expect(req.headers['user-agent']).toMatch(/^Reten-Webhooks\//);
    expect(req.headers['x-reten-event-id']).toMatch(/^evt_/);
  });

  it('delivers a reten.test event only to the endpoint it names', async () => {
    const t = tenant();
    const a = await d.createEndpoint({ url: receiver.url('/test-a'), tenantId: t });
    await d.createEndpoint({ url: receiver.url('/test-b'), tenantId: t });
    await d.publish('reten.test', { webhook_id: a.id }, t);
    await d.publish('after.x', {}, t);
    await eventually(() => expect(receiver.requestsTo('/test-b')).toHaveLength(1));
    // (after.x goes to both endpoints at once: a's copy may arrive after b's)
    await eventually(() => expect(receiver.requestsTo('/test-a')).toHaveLength(2));
    expect(receiver.requestsTo('/test-b')).toHaveLength(1);
    expect(JSON.parse(receiver.requestsTo('/test-b')[0]!.rawBody)).toMatchObject({
      event_type: 'after.x',
    });
  });
});

describe('delivery service: crashes and broker outages', () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await webhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('resumes the retry schedule after the service is stopped mid-retry, losing nothing', async () => {
    const d = await startTestDelivery('delivery restart', {
      env: { DELIVERY_RETRY_SCHEDULE_SECONDS: '0,1.5' },
    });
    try {
      receiver.respond(() => ({
        status: receiver.requestsTo('/restart').length === 1 ? 500 : 204,
      }));
      const ep = await d.createEndpoint({ url: receiver.url('/restart') });
      await d.publish('restart.x', {});
      await eventually(async () =>
        expect(await statusOf(d, ep.id)).toEqual([{ status: 'retrying', attempts: 1 }]),
      );
      await d.stopService();
      await d.restartService();
      await eventually(
        async () =>
          expect(await statusOf(d, ep.id)).toEqual([{ status: 'succeeded', attempts: 2 }]),
        {
          timeoutMs: 15_000,
        },
      );
      expect(receiver.requestsTo('/restart')).toHaveLength(2);
    } finally {
      await d.close();
    }
  });

  it('delivers events published while its broker connection was cut once it reconnects', async () => {
    const rabbit = new URL((await testServers()).rabbitUrl);
    const proxy = await TcpProxy.start(rabbit.hostname, Number(rabbit.port || 5672));
    const d = await startTestDelivery('delivery broker cut', {
      rabbitUrl: (url) => proxy.proxiedUrl(url),
      env: { RABBITMQ_HEARTBEAT_SECONDS: '1' },
    });
    try {
      receiver.respond({ status: 204 });
      await d.createEndpoint({ url: receiver.url('/cut') });
      await d.publish('cut.x', { i: 0 });
      await eventually(() => expect(receiver.requestsTo('/cut')).toHaveLength(1));
      proxy.cut();
      for (let i = 1; i <= 5; i++) await d.publish('cut.x', { i });
      proxy.restore();
      await eventually(() => expect(receiver.requestsTo('/cut')).toHaveLength(6), {
        timeoutMs: 30_000,
      });
    } finally {
      await d.close();
      await proxy.close();
    }
  });
});

describe('delivery service: SSRF guard and disabling a failing endpoint', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery ssrf', {
      env: {
        WEBHOOK_ALLOW_PRIVATE: 'false',
        DELIVERY_DISABLE_AFTER_SECONDS: '1',
        DELIVERY_RETRY_SCHEDULE_SECONDS: '0,0.7,0.7,0.7',
      },
    });
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });
  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('refuses a loopback IP literal and a host resolving to loopback at attempt time', async () => {
    const literal = await d.createEndpoint({
      url: receiver.url('/literal'),
      tenantId: 'ssrf',
      retryScheduleSeconds: [0],
    });
    const named = await d.createEndpoint({
      url: `http://localhost:${receiver.port}/named`,
      tenantId: 'ssrf',
      retryScheduleSeconds: [0],
    });
    await d.publish('ssrf.x', {}, 'ssrf');
    await eventually(async () => {
      expect(await statusOf(d, literal.id)).toEqual([{ status: 'failed', attempts: 1 }]);
      expect(await statusOf(d, named.id)).toEqual([{ status: 'failed', attempts: 1 }]);
    });
    const errors = await d.schema.pool.query<{ phase: string; error: string }>(
      'SELECT phase, error FROM webhook_attempts WHERE tenant_id = $1 ORDER BY endpoint_id',
      ['ssrf'],
    );
    expect(errors.rows.every((r) => r.phase === 'connect' && /public address/.test(r.error))).toBe(
      true,
    );
    expect(receiver.requests).toHaveLength(0);
  });

  it('disables an endpoint whose every attempt failed for the configured period, with a reason and an event', async () => {
    const ep = await d.createEndpoint({ url: 'http://127.0.0.1:1/dead', tenantId: 'dying' });
    await d.publish('dying.x', {}, 'dying');
    await eventually(
      async () => {
        const row = await d.schema.pool.query<{ enabled: boolean; disabled_reason: string | null }>(
          'SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1',
          [ep.id],
        );
        expect(row.rows[0]).toMatchObject({ enabled: false });
        expect(row.rows[0]!.disabled_reason).toMatch(/every attempt failed since/);
      },
      { timeoutMs: 15_000 },
    );
    const events = await d.schema.pool.query<{ data: { webhook_id: string; reason: string } }>(
      'SELECT data FROM events WHERE tenant_id = $1 AND event_type = $2',
      ['dying', ENDPOINT_DISABLED_EVENT_TYPE],
    );
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]!.data.webhook_id).toBe(ep.id);
  });
});

describe('delivery service: replicas and bad messages', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    d = await startTestDelivery('delivery replicas');
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });
  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  it('holds the rate limit across two replicas sharing Redis (± 10 %)', async () => {
    await d.addReplica();
    await d.createEndpoint({
      url: receiver.url('/shared-rate'),
      rateLimitPerSecond: 20,
    });
    for (let i = 0; i < 50; i++) await d.publish('rate.x', { i });
    await eventually(() => expect(receiver.requestsTo('/shared-rate')).toHaveLength(50), {
      timeoutMs: 15_000,
    });
    const times = receiver
      .requestsTo('/shared-rate')
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b);
    const rate = (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1000);
    expect(rate).toBeGreaterThanOrEqual(18);
    expect(rate).toBeLessThanOrEqual(22);
  });

  it('parks a message that is not an event envelope in reten.delivery.parked', async () => {
    await d.publishRaw('junk.x', Buffer.from('not json'), { 'x-reten-tenant': 'dev' });
    await eventually(async () => expect(await d.queueDepth('reten.delivery.parked')).toBe(1));
  });
});

describe('delivery service: Redis unreachable', () => {
  it('keeps delivering without a rate limit (fails open) while Redis is down', async () => {
    const d = await startTestDelivery('delivery no redis', {
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
    });
    const receiver = await webhookReceiver();
    try {
      receiver.respond({ status: 204 });
      await d.createEndpoint({ url: receiver.url('/no-redis'), rateLimitPerSecond: 1 });
      for (let i = 0; i < 5; i++) await d.publish('redis.x', { i });
      // a working limit of 1/s would need 4 s for these five
      await eventually(() => expect(receiver.requestsTo('/no-redis')).toHaveLength(5), {
        timeoutMs: 3_000,
      });
    } finally {
      await d.close();
      await receiver.close();
    }
  });
});
