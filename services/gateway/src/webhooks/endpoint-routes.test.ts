import { WEBHOOK_TEST_EVENT_TYPE } from '@reten/contracts';
import { isSecret } from '@reten/webhooks';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';

interface Endpoint {
  id: string;
  url: string;
  event_types: string[];
  enabled: boolean;
  secret?: string | null;
  public_key: string | null;
  rate_limit_per_second: number;
  retry_schedule_seconds: number[] | null;
  disabled_reason: string | null;
}

describe('webhooks API (private targets allowed, as in the local stack)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('webhooks api', { env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const create = async (body: Record<string, unknown>) => {
    const res = await api(gw, 'POST', '/api/v1/webhooks', body);
    expect(res.status).toBe(201);
    return res.body as Endpoint;
  };

  it('creates an endpoint with defaults and shows its whsec_ secret only on create', async () => {
    const ep = await create({ url: 'http://127.0.0.1:9/hook' });
    expect(ep).toMatchObject({
      url: 'http://127.0.0.1:9/hook',
      event_types: [],
      enabled: true,
      rate_limit_per_second: 100,
      retry_schedule_seconds: null,
      public_key: null,
      on_failure: 'skip',
    });
    expect(isSecret(ep.secret!)).toBe(true);
    const got = await api(gw, 'GET', `/api/v1/webhooks/${ep.id}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('secret');
  });

  it('answers a retried create with the same Idempotency-Key with the first answer, creating one endpoint', async () => {
    const body = { url: 'http://127.0.0.1:9/idem', description: 'idempotent' };
    const headers = { 'idempotency-key': 'create-webhook-1' };
    const first = await api(gw, 'POST', '/api/v1/webhooks', body, { headers });
    const again = await api(gw, 'POST', '/api/v1/webhooks', body, { headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    const rows = await gw.schema.pool.query(
      "SELECT 1 FROM webhook_endpoints WHERE description = 'idempotent'",
    );
    expect(rows.rowCount).toBe(1);
    const other = await api(
      gw,
      'POST',
      '/api/v1/webhooks',
      { ...body, description: 'x' },
      { headers },
    );
    expect(other.status).toBe(422);
    expect((other.body as { error: { code: string } }).error.code).toBe('idempotency_key_reused');
  });

  it('creates an ed25519 endpoint that publishes its public key and has no shared secret', async () => {
    const ep = await create({ url: 'http://127.0.0.1:9/ed', signing: 'ed25519' });
    expect(ep.secret).toBeNull();
    expect(ep.public_key).toMatch(/^whpk_/);
    const rotate = await api(gw, 'POST', `/api/v1/webhooks/${ep.id}/rotate-secret`, {});
    expect(rotate.status).toBe(409);
  });

  it('lists endpoints with cursor pagination', async () => {
    for (let i = 0; i < 3; i++) await create({ url: `http://127.0.0.1:9/list${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await api(gw, 'GET', `/api/v1/webhooks?limit=2${q}`);
      expect(page.status).toBe(200);
      const body = page.body as { data: Endpoint[]; next_cursor: string | null };
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((e) => e.id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });

  it('updates filters, rate limit, schedule and on_failure with PATCH, and deletes', async () => {
    const ep = await create({ url: 'http://127.0.0.1:9/patch' });
    const patched = await api(gw, 'PATCH', `/api/v1/webhooks/${ep.id}`, {
      event_types: ['order.*', 'user.created'],
      rate_limit_per_second: 5,
      retry_schedule_seconds: [0, 10],
      enabled: false,
      on_failure: 'block',
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      event_types: ['order.*', 'user.created'],
      rate_limit_per_second: 5,
      retry_schedule_seconds: [0, 10],
      enabled: false,
      on_failure: 'block',
    });
    const bad = await api(gw, 'PATCH', `/api/v1/webhooks/${ep.id}`, { on_failure: 'drop' });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('on_failure');
    expect((await api(gw, 'DELETE', `/api/v1/webhooks/${ep.id}`)).status).toBe(204);
    expect((await api(gw, 'GET', `/api/v1/webhooks/${ep.id}`)).status).toBe(404);
  });

  it('rotates the secret, keeping the old one for the grace period', async () => {
    const ep = await create({ url: 'http://127.0.0.1:9/rotate' });
    const res = await api(gw, 'POST', `/api/v1/webhooks/${ep.id}/rotate-secret`, {
      grace_period_seconds: 3600,
    });
    expect(res.status).toBe(200);
    const body = res.body as { secret: string; previous_secret_expires_at: string };
    expect(isSecret(body.secret)).toBe(true);
    expect(body.secret).not.toBe(ep.secret);
    const expires = Date.parse(body.previous_secret_expires_at) - Date.now();
    expect(expires).toBeGreaterThan(3500_000);
    expect(expires).toBeLessThan(3700_000);
    const row = await gw.schema.pool.query<{ previous_secret: string }>(
      'SELECT previous_secret FROM webhook_endpoints WHERE id = $1',
      [ep.id],
    );
    expect(row.rows[0]!.previous_secret).toBe(ep.secret);
  });

  it('stores a reten.test event naming the endpoint on POST …/test', async () => {
    const ep = await create({ url: 'http://127.0.0.1:9/test' });
    const res = await api(gw, 'POST', `/api/v1/webhooks/${ep.id}/test`);
    expect(res.status).toBe(202);
    const eventId = (res.body as { event_id: string }).event_id;
    const event = await api(gw, 'GET', `/api/v1/events/${eventId}`);
    expect(event.body).toMatchObject({
      event_type: WEBHOOK_TEST_EVENT_TYPE,
      data: { webhook_id: ep.id },
    });
  });

  it.each([
    [{ url: 'not a url' }, 'body.url', /valid absolute URL/],
    [{ url: 'ftp://example.com/x' }, 'body.url', /scheme/],
    [
      { url: 'http://127.0.0.1/x', event_types: ['order created'] },
      'body.event_types.0',
      /wildcards/,
    ],
    [{ url: 'http://127.0.0.1/x', headers: { 'webhook-id': 'x' } }, 'body.headers', /set by Reten/],
    [{ url: 'http://127.0.0.1/x', headers: { Traceparent: 'x' } }, 'body.headers', /set by Reten/],
    [{ url: 'http://127.0.0.1/x', rate_limit_per_second: 0 }, 'body.rate_limit_per_second', /./],
    [{ url: 'http://127.0.0.1/x', unknown: 1 }, 'body', /./],
  ])('answers 422 with the reason for %j', async (body, path, message) => {
    const res = await api(gw, 'POST', '/api/v1/webhooks', body);
    expect(res.status).toBe(422);
    const error = (
      res.body as { error: { code: string; details: { path: string; message: string }[] } }
    ).error;
    expect(error.code).toBe('validation_failed');
    const detail = error.details.find((d) => d.path.startsWith(path));
    expect(detail?.message).toMatch(message);
  });

  it('answers 404 for another tenant’s endpoint and never lists it', async () => {
    const ep = await create({ url: 'http://127.0.0.1:9/mine' });
    const otherKey = await gw.createKey('other-tenant', ['webhooks:manage']);
    const other = { url: gw.url, apiKey: otherKey };
    expect((await api(other, 'GET', `/api/v1/webhooks/${ep.id}`)).status).toBe(404);
    expect(
      (await api(other, 'PATCH', `/api/v1/webhooks/${ep.id}`, { enabled: false })).status,
    ).toBe(404);
    expect((await api(other, 'DELETE', `/api/v1/webhooks/${ep.id}`)).status).toBe(404);
    expect((await api(other, 'POST', `/api/v1/webhooks/${ep.id}/test`)).status).toBe(404);
    expect((await api(other, 'GET', `/api/v1/webhooks/${ep.id}/deliveries`)).status).toBe(404);
    const list = await api(other, 'GET', '/api/v1/webhooks');
    expect((list.body as { data: unknown[] }).data).toEqual([]);
  });

  it('needs the webhooks:manage scope', async () => {
    const readOnly = await gw.createKey(gw.tenantId, ['events:read']);
    const res = await api({ url: gw.url, apiKey: readOnly }, 'GET', '/api/v1/webhooks');
    expect(res.status).toBe(403);
  });

  it('answers 404 for an unknown delivery id and for a malformed one', async () => {
    expect(
      (await api(gw, 'POST', '/api/v1/deliveries/dlv_01J8Z3V6ZV4X3M2N9Q8R7S6T5U/retry')).status,
    ).toBe(404);
    expect((await api(gw, 'GET', '/api/v1/deliveries/nope')).status).toBe(404);
  });
});

describe('webhooks API (production policy: https only, public targets only)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('webhooks api strict');
  });
  afterAll(async () => {
    await gw?.close();
  });

  it.each([
    'https://127.0.0.1/hook',
    'https://localhost/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.1/hook',
    'https://[::1]/hook',
    'https://[fd00:ec2::254]/hook',
  ])('refuses the private target %s with 422', async (url) => {
    const res = await api(gw, 'POST', '/api/v1/webhooks', { url });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/public address/);
  });

  it('refuses http:// URLs', async () => {
    const res = await api(gw, 'POST', '/api/v1/webhooks', { url: 'http://93.184.216.34/hook' });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/scheme must be https/);
  });

  it('accepts a public https target', async () => {
    const res = await api(gw, 'POST', '/api/v1/webhooks', { url: 'https://93.184.216.34/hook' });
    expect(res.status).toBe(201);
  });

  it('refuses a private URL on PATCH too', async () => {
    const created = await api(gw, 'POST', '/api/v1/webhooks', { url: 'https://93.184.216.34/a' });
    const id = (created.body as { id: string }).id;
    const res = await api(gw, 'PATCH', `/api/v1/webhooks/${id}`, { url: 'https://127.0.0.1/b' });
    expect(res.status).toBe(422);
  });
});
