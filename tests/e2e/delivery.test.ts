import { createTestSchema, createTestVhost, eventually, webhookReceiver } from '@reten/testing';
import type { TestSchema, TestVhost, WebhookReceiver } from '@reten/testing';
import { verifyWebhook } from '@reten/webhooks';
import { api, eventIdOf } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';
import { deliveryRedisPrefix, startDeliveryProcess } from './delivery-process';
import type { DeliveryProcess } from './delivery-process';

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  event_id: string;
  attempt_log: { attempt: number; succeeded: boolean; status_code: number | null }[];
}

describe('webhook delivery end to end: gateway process + delivery process + local receiver', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let gateway: GatewayProcess;
  let delivery: DeliveryProcess;
  let receiver: WebhookReceiver;
  let gw: { url: string; apiKey: string };
  const prefix = deliveryRedisPrefix('e2e delivery');

  beforeAll(async () => {
    schema = await createTestSchema('e2e delivery');
    vhost = await createTestVhost('e2e delivery');
    gw = { url: '', apiKey: await createApiKey(schema) };
    gateway = await startGatewayProcess(schema, vhost, { WEBHOOK_ALLOW_PRIVATE: 'true' });
    gw.url = gateway.url;
    // one request in flight per endpoint: the replays below check arrival in event order, which
    // keyless deliveries have only then (services/delivery/README.md, the order table:
    // dispatched in event order, attempted in parallel up to the endpoint's requests in flight)
    delivery = await startDeliveryProcess(schema, vhost, prefix, {
      DELIVERY_ENDPOINT_MAX_IN_FLIGHT: '1',
    });
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await delivery?.process.kill('SIGTERM');
    await gateway?.process.kill('SIGTERM');
    await receiver?.close();
    await schema?.drop();
    await vhost?.drop();
  });

  const register = async (path: string, extra: Record<string, unknown> = {}) => {
    const res = await api(gw, 'POST', '/api/v1/webhooks', { url: receiver.url(path), ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const deliveries = async (webhookId: string, query = '') =>
    (await api(gw, 'GET', `/api/v1/webhooks/${webhookId}/deliveries${query}`)).body as {
      data: Delivery[];
      next_cursor: string | null;
    };

  it('delivers an accepted event, signed, and shows the delivery on the event, in the history and the stats', async () => {
    receiver.respond({ status: 204 });
    const ep = await register('/e2e', { event_types: ['order.*'] });
    const id = eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', { order: 1 }));
    const req = await eventually(() => {
      const r = receiver.requestsTo('/e2e')[0];
      if (!r) throw new Error('not yet');
      return r;
    });
    expect(verifyWebhook(req.rawBody, req.headers, ep.secret)).toMatchObject({
      event_id: id,
      event_type: 'order.created',
      data: { order: 1 },
    });
    await eventually(async () => {
      const event = await api(gw, 'GET', `/api/v1/events/${id}`);
      expect((event.body as { webhooks: unknown[] }).webhooks).toEqual([
        expect.objectContaining({
          webhook_id: ep.id,
          status: 'succeeded',
          attempts: 1,
          last_status_code: 204,
        }),
      ]);
    });
    const history = await deliveries(ep.id);
    expect(history.data).toHaveLength(1);
    expect(history.data[0]!.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, succeeded: true, status_code: 204 }),
    ]);
    const stats = await api(gw, 'GET', `/api/v1/webhooks/${ep.id}/stats`);
    expect(stats.body).toMatchObject({
      attempts: 1,
      succeeded: 1,
      success_rate: 1,
      last_error: null,
    });
    expect((stats.body as { latency_p50_ms: number }).latency_p50_ms).toBeGreaterThanOrEqual(0);
  });

  it('sends POST …/test to that endpoint at once', async () => {
    receiver.respond({ status: 204 });
    const ep = await register('/ping', { event_types: ['nothing.matches'] });
    const res = await api(gw, 'POST', `/api/v1/webhooks/${ep.id}/test`);
    expect(res.status).toBe(202);
    await eventually(() => expect(receiver.requestsTo('/ping')).toHaveLength(1));
    expect(JSON.parse(receiver.requestsTo('/ping')[0]!.rawBody)).toMatchObject({
      event_type: 'reten.test',
      data: { webhook_id: ep.id },
    });
  });

  it('stores failed deliveries, filters the history by status, and retries one on request', async () => {
    receiver.respond((req) =>
      req.path === '/fail' ? { status: 500, body: 'nope' } : { status: 204 },
    );
    const ep = await register('/fail', { event_types: ['fail.*'] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(eventIdOf(await api(gw, 'POST', '/v1.0/event/fail.x', { i })));
    await eventually(
      async () => {
        const failed = await deliveries(ep.id, '?status=failed');
        expect(failed.data).toHaveLength(3);
        expect(failed.data.every((d) => d.attempts === 3 && d.attempt_log.length === 3)).toBe(true);
      },
      { timeoutMs: 20_000 },
    );
    const page = await deliveries(ep.id, '?limit=2');
    expect(page.data).toHaveLength(2);
    const rest = await deliveries(ep.id, `?limit=2&cursor=${page.next_cursor!}`);
    expect(rest.data).toHaveLength(1);
    expect(rest.next_cursor).toBeNull();
    const stats = await api(gw, 'GET', `/api/v1/webhooks/${ep.id}/stats`);
    expect(stats.body).toMatchObject({
      attempts: 9,
      succeeded: 0,
      success_rate: 0,
      deliveries_failed: 3,
    });
    expect((stats.body as { last_error: string }).last_error).toMatch(/500/);

    receiver.respond({ status: 204 });
    const target = page.data[0]!;
    const retry = await api(gw, 'POST', `/api/v1/deliveries/${target.id}/retry`);
    expect(retry.status).toBe(202);
    await eventually(async () => {
      const got = await api(gw, 'GET', `/api/v1/deliveries/${target.id}`);
      expect(got.body).toMatchObject({ status: 'succeeded', attempts: 4 });
    });
  });

  it('replays only the failed deliveries since a time, in event order', async () => {
    receiver.respond((req) => (req.path === '/replay' ? { status: 503 } : { status: 204 }));
    const since = new Date().toISOString();
    const ep = await register('/replay', { event_types: ['replay.*'] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(eventIdOf(await api(gw, 'POST', '/v1.0/event/replay.x', { i })));
    await eventually(
      async () => expect((await deliveries(ep.id, '?status=failed')).data).toHaveLength(5),
      {
        timeoutMs: 20_000,
      },
    );
    receiver.respond({ status: 204 });
    const before = receiver.requestsTo('/replay').length;
    const res = await api(gw, 'POST', `/api/v1/webhooks/${ep.id}/replay`, {
      since,
      failed_only: true,
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ queued: 5 });
    await eventually(() => expect(receiver.requestsTo('/replay').length - before).toBe(5));
    const replayed = receiver
      .requestsTo('/replay')
      .slice(before)
      .map((r) => (JSON.parse(r.rawBody) as { event_id: string }).event_id);
    expect(replayed).toEqual(ids);
    await eventually(async () =>
      expect((await deliveries(ep.id, '?status=succeeded')).data).toHaveLength(5),
    );
  });

  it('replays events from before an endpoint existed to it, in event order', async () => {
    receiver.respond({ status: 204 });
    const since = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(eventIdOf(await api(gw, 'POST', '/v1.0/event/late.x', { i })));
    await eventually(async () => {
      const e = await api(gw, 'GET', `/api/v1/events/${ids[3]!}`);
      expect((e.body as { published_at: string | null }).published_at).not.toBeNull();
    });
    const ep = await register('/late', { event_types: ['late.x'] });
    const res = await api(gw, 'POST', `/api/v1/webhooks/${ep.id}/replay`, { since });
    expect(res.body).toEqual({ queued: 4 });
    await eventually(() => expect(receiver.requestsTo('/late')).toHaveLength(4));
    expect(
      receiver
        .requestsTo('/late')
        .map((r) => (JSON.parse(r.rawBody) as { event_id: string }).event_id),
    ).toEqual(ids);
  });

  it('resumes a retry schedule after the delivery process is killed (SIGKILL) mid-retry', async () => {
    await delivery.process.kill('SIGTERM');
    delivery = await startDeliveryProcess(schema, vhost, prefix, {
      DELIVERY_RETRY_SCHEDULE_SECONDS: '0,3',
    });
    receiver.respond(() => ({ status: receiver.requestsTo('/kill').length === 1 ? 500 : 204 }));
    const ep = await register('/kill', { event_types: ['kill.x'] });
    eventIdOf(await api(gw, 'POST', '/v1.0/event/kill.x', {}));
    await eventually(async () =>
      expect((await deliveries(ep.id, '?status=retrying')).data).toHaveLength(1),
    );
    await delivery.process.kill('SIGKILL');
    delivery = await startDeliveryProcess(schema, vhost, prefix, {
      DELIVERY_RETRY_SCHEDULE_SECONDS: '0,3',
    });
    await eventually(
      async () => expect((await deliveries(ep.id, '?status=succeeded')).data).toHaveLength(1),
      { timeoutMs: 20_000 },
    );
    expect(receiver.requestsTo('/kill')).toHaveLength(2);
  });
});
