import { ENDPOINT_DISABLED_EVENT_TYPE } from '@reten/contracts';
import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

interface AttemptView {
  attempt: number;
  succeeded: boolean;
  status_code: number | null;
  phase: string | null;
  error: string | null;
  latency_ms: number;
}

describe('delivery service: receivers that misbehave', () => {
  let d: TestDelivery;
  let receiver: WebhookReceiver;
  let n = 0;
  /** Each test gets its own tenant, so endpoints of other tests never match. */
  const tenant = () => `tenant${++n}`;

  const attemptsOf = async (endpointId: string) =>
    (
      await d.schema.pool.query<AttemptView>(
        `SELECT attempt, succeeded, status_code, phase, error, latency_ms FROM webhook_attempts
          WHERE endpoint_id = $1 ORDER BY id`,
        [endpointId],
      )
    ).rows;

  const statusOf = async (endpointId: string) =>
    (
      await d.schema.pool.query<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = $1',
        [endpointId],
      )
    ).rows;

  beforeAll(async () => {
    d = await startTestDelivery('delivery faults', {
      env: {
        DELIVERY_RETRY_SCHEDULE_SECONDS: '0,0.3',
        DELIVERY_TIMEOUT_MS: '600',
        DELIVERY_CONNECT_TIMEOUT_MS: '3000',
        DELIVERY_BREAKER_FAILURES: '3',
        DELIVERY_BREAKER_COOLDOWN_MS: '2000',
        // one request at a time per endpoint: the breaker sees each failure before the next
        // attempt starts (with more in flight, the ones already started still go)
        DELIVERY_ENDPOINT_MAX_IN_FLIGHT: '1',
      },
    });
    receiver = await webhookReceiver();
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
  });

  async function failingCase(path: string, answer: Parameters<WebhookReceiver['respond']>[0]) {
    const t = tenant();
    receiver.respond(answer);
    const ep = await d.createEndpoint({ url: receiver.url(path), tenantId: t });
    await d.publish('fault.x', {}, t);
    await eventually(
      async () => expect(await statusOf(ep.id)).toEqual([{ status: 'failed', attempts: 2 }]),
      {
        timeoutMs: 15_000,
      },
    );
    return attemptsOf(ep.id);
  }

  it('records a receiver that never answers as a headers-phase timeout, retried then failed', async () => {
    const attempts = await failingCase('/hang', { hang: true });
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a).toMatchObject({ succeeded: false, status_code: null, phase: 'headers' });
      expect(a.latency_ms).toBeGreaterThanOrEqual(550);
    }
  });

  it('records a connection reset as a failure before headers', async () => {
    const attempts = await failingCase('/reset', { reset: true });
    expect(attempts.map((a) => [a.succeeded, a.phase])).toEqual([
      [false, 'headers'],
      [false, 'headers'],
    ]);
  });

  it('counts a 200 that arrives after the timeout as a failure', async () => {
    const attempts = await failingCase('/late', { status: 200, delayMs: 1500 });
    expect(attempts.every((a) => !a.succeeded && a.phase === 'headers')).toBe(true);
  });

  it('does not follow a redirect: it is a failed attempt with the 302 status', async () => {
    const attempts = await failingCase('/redirect', { redirectTo: receiver.url('/elsewhere') });
    expect(attempts.map((a) => [a.status_code, a.phase])).toEqual([
      [302, 'status'],
      [302, 'status'],
    ]);
    expect(receiver.requestsTo('/elsewhere')).toHaveLength(0);
  });

  it('records a refused connection as a connect-phase failure', async () => {
    const t = tenant();
    const ep = await d.createEndpoint({ url: 'http://127.0.0.1:1/closed', tenantId: t });
    await d.publish('fault.x', {}, t);
    await eventually(
      async () => expect(await statusOf(ep.id)).toEqual([{ status: 'failed', attempts: 2 }]),
      {
        timeoutMs: 15_000,
      },
    );
    const attempts = await attemptsOf(ep.id);
    expect(attempts[0]).toMatchObject({ phase: 'connect', status_code: null });
    expect(attempts[0]!.error).toMatch(/ECONNREFUSED/);
  });

  it('disables the endpoint at once on 410 Gone and inserts a reten.endpoint.disabled event', async () => {
    const t = tenant();
    receiver.respond({ status: 410 });
    const ep = await d.createEndpoint({ url: receiver.url('/gone'), tenantId: t });
    await d.publish('fault.x', {}, t);
    await eventually(async () => {
      const row = await d.schema.pool.query<{ enabled: boolean; disabled_reason: string }>(
        'SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1',
        [ep.id],
      );
      expect(row.rows[0]).toMatchObject({ enabled: false });
      expect(row.rows[0]!.disabled_reason).toMatch(/410/);
    });
    expect(await statusOf(ep.id)).toEqual([{ status: 'failed', attempts: 1 }]);
    const events = await d.schema.pool.query<{ data: { webhook_id: string } }>(
      'SELECT data FROM events WHERE tenant_id = $1 AND event_type = $2',
      [t, ENDPOINT_DISABLED_EVENT_TYPE],
    );
    expect(events.rows.map((r) => r.data.webhook_id)).toEqual([ep.id]);
    // later events are not sent to a disabled endpoint
    await d.publish('fault.x', {}, t);
    await d.publish('fault.x', {}, t);
    const count = receiver.requestsTo('/gone').length;
    await eventually(async () => {
      const rows = await d.schema.pool.query('SELECT 1 FROM events WHERE tenant_id = $1', [t]);
      expect(rows.rowCount).toBe(4);
    });
    expect(receiver.requestsTo('/gone')).toHaveLength(count);
  });

  it('waits at least the Retry-After of a 429 before the next attempt', async () => {
    const t = tenant();
    receiver.respond(() => ({
      status: receiver.requestsTo('/busy').length === 1 ? 429 : 204,
      retryAfter: '1',
    }));
    const ep = await d.createEndpoint({ url: receiver.url('/busy'), tenantId: t });
    await d.publish('fault.x', {}, t);
    await eventually(() => expect(receiver.requestsTo('/busy')).toHaveLength(2), {
      timeoutMs: 10_000,
    });
    const [first, second] = receiver.requestsTo('/busy');
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    await eventually(async () =>
      expect(await statusOf(ep.id)).toEqual([{ status: 'succeeded', attempts: 2 }]),
    );
  });

  it('keeps delivering to a healthy endpoint while another one hangs', async () => {
    const t = tenant();
    receiver.respond((req) => (req.path === '/stuck' ? { hang: true } : { status: 204 }));
    await d.createEndpoint({ url: receiver.url('/stuck'), tenantId: t });
    await d.createEndpoint({ url: receiver.url('/healthy'), tenantId: t });
    const started = Date.now();
    for (let i = 0; i < 20; i++) await d.publish('fault.x', { i }, t);
    await eventually(() => expect(receiver.requestsTo('/healthy')).toHaveLength(20), {
      timeoutMs: 20_000,
    });
    // 20 hangs of 600 ms in a row would take 12 s; the healthy endpoint is not behind them
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('opens the circuit of an endpoint after failures in a row: the rest wait without attempts, then go', async () => {
    const t = tenant();
    receiver.respond({ status: 500 });
    const ep = await d.createEndpoint({
      url: receiver.url('/breaker'),
      tenantId: t,
      retryScheduleSeconds: [0],
    });
    for (let i = 0; i < 8; i++) await d.publish('fault.x', { i }, t);
    await eventually(async () => {
      const rows = await statusOf(ep.id);
      expect(rows.filter((r) => r.status === 'failed')).toHaveLength(3);
    });
    expect(receiver.requestsTo('/breaker')).toHaveLength(3);
    receiver.respond({ status: 204 });
    await eventually(
      async () => {
        const rows = await statusOf(ep.id);
        expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(5);
      },
      { timeoutMs: 20_000 },
    );
    // the deliveries held by the open circuit were attempted once, when it closed
    const rows = await statusOf(ep.id);
    expect(rows.filter((r) => r.status === 'succeeded').every((r) => r.attempts === 1)).toBe(true);
    expect(receiver.requestsTo('/breaker')).toHaveLength(8);
  });
});
