import { TokenCodec } from '@reten/auth';
import { scopeFor } from './authenticate';
import { eventually, logSink } from '@reten/testing';
import type { LogSink } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';
import type { ApiResponse } from '../test-api';
import { declaredRoutes, samplePath } from '../test-routes';
import type { DeclaredRoute } from '../test-routes';
import { expectHiddenFrom, otherTenant } from '../test-tenants';
import { DEFAULT_ROUTE_SCOPE, PUBLIC_PATHS } from './route-scopes';
import { ROUTE_SCOPES } from '../route-table';

const JWT_SECRET = 'test-jwt-secret-0123456789abcdef';
const ENV = { JWT_SECRET, JWT_ISSUER: 'reten-test', JWT_AUDIENCE: 'reten-test-api' };

function errorOf(res: ApiResponse): { code?: string; message?: string; status?: number } {
  return (res.body as { error?: { code?: string; message?: string; status?: number } }).error ?? {};
}

/** The claims of a JWT, read without verifying it (the gateway verified it). */
function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A token signed like the gateway's but with some setting changed. */
function tokenWith(
  overrides: { secret?: string; audience?: string; ttlSeconds?: number },
  keyId: string,
  tenantId: string,
): string {
  return new TokenCodec({
    algorithm: 'HS256',
    secret: overrides.secret ?? JWT_SECRET,
    issuer: ENV.JWT_ISSUER,
    audience: overrides.audience ?? ENV.JWT_AUDIENCE,
    ttlSeconds: overrides.ttlSeconds ?? 60,
  }).sign({ keyId, tenantId, scopes: ['admin'] });
}

function sampleBody(method: string): unknown {
  return method === 'GET' || method === 'DELETE' ? undefined : {};
}

describe('gateway authentication and scopes', () => {
  let gw: TestGateway;
  let sink: LogSink;
  let routes: DeclaredRoute[];
  const secrets: string[] = [];

  beforeAll(async () => {
    sink = logSink('trace');
    gw = await startTestGateway('gateway auth', { env: ENV, log: sink.log });
    secrets.push(gw.apiKey);
    if (!gw.gateway.app) throw new Error('gateway has no app');
    routes = declaredRoutes(gw.gateway.app).filter(
      (r) => !(PUBLIC_PATHS as readonly string[]).includes(r.path),
    );
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('finds the API routes in the router stack (the enumeration below is not vacuous)', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /v1.0/event/:type',
        'POST /api/v1/events',
        'GET /api/v1/events',
        'GET /api/v1/events/:id',
        'PUT /api/v1/events/:id',
        'POST /api/v1/api-keys',
        'GET /api/v1/api-keys',
        'DELETE /api/v1/api-keys/:id',
        'POST /api/v1/auth/token',
      ]),
    );
  });

  it('answers 401 unauthorized with a Bearer challenge on every declared route without credentials', async () => {
    for (const route of routes) {
      const path = samplePath(route.path);
      const res = await api(gw, route.method, path, sampleBody(route.method), { auth: null });
      expect({
        route: `${route.method} ${path}`,
        status: res.status,
        code: errorOf(res).code,
      }).toEqual({ route: `${route.method} ${path}`, status: 401, code: 'unauthorized' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="reten"');
    }
  });

  it('answers 401 on every declared route for an unknown key, a malformed credential and a Basic header', async () => {
    const unknown = `rtn_0123456789abcdef_${'A'.repeat(43)}`;
    for (const route of routes) {
      const path = samplePath(route.path);
      for (const [headers, message] of [
        [{ authorization: `Bearer ${unknown}` }, 'Unknown API key'],
        [{ authorization: 'Bearer not-a-key' }, 'Malformed credentials'],
        [{ authorization: 'Basic dXNlcjpwYXNz' }, 'Malformed credentials'],
      ] as const) {
        const res = await api(gw, route.method, path, sampleBody(route.method), {
          auth: null,
          headers,
        });
        expect([route.method, path, res.status]).toEqual([route.method, path, 401]);
        expect(errorOf(res).message).toContain(message);
        expect(res.text).not.toContain(unknown);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="reten", error="/);
      }
    }
  });

  it('serves /healthz, /readyz, /metrics and /openapi.json without credentials', async () => {
    for (const path of PUBLIC_PATHS) {
      const res = await api(gw, 'GET', path, undefined, { auth: null });
      expect([path, res.status]).toEqual([path, 200]);
    }
  });

  it('answers 403 forbidden naming the scope on every declared route for a key without that scope', async () => {
    // stream:read is needed by no gateway route, so this key may only exchange itself for a token
    const key = await gw.createKey(gw.tenantId, ['stream:read'], 'stream only');
    secrets.push(key);
    for (const route of routes) {
      const path = samplePath(route.path);
      const needed = scopeFor(ROUTE_SCOPES, DEFAULT_ROUTE_SCOPE, route.method, path);
      if (needed === null) continue;
      const res = await api(gw, route.method, path, sampleBody(route.method), { auth: key });
      expect([route.method, path, res.status, errorOf(res).code]).toEqual([
        route.method,
        path,
        403,
        'forbidden',
      ]);
      expect(errorOf(res).message).toContain(needed);
      expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    }
  });

  it('lets events:read list and read events but not ingest, and events:write ingest but not read', async () => {
    const reader = await gw.createKey(gw.tenantId, ['events:read'], 'reader');
    const writer = await gw.createKey(gw.tenantId, ['events:write'], 'writer');
    secrets.push(reader, writer);

    const ingested = await api(gw, 'POST', '/v1.0/event/auth.scope', { a: 1 }, { auth: writer });
    expect(ingested.status).toBe(202);
    const created = await api(
      gw,
      'POST',
      '/api/v1/events',
      { event_type: 'auth.scope', data: { b: 2 } },
      { auth: writer },
    );
    expect(created.status).toBe(202);
    const id = (ingested.body as { event_id: string }).event_id;

    expect((await api(gw, 'GET', `/api/v1/events/${id}`, undefined, { auth: reader })).status).toBe(
      200,
    );
    expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: reader })).status).toBe(200);
    const readByWriter = await api(gw, 'GET', `/api/v1/events/${id}`, undefined, { auth: writer });
    expect([readByWriter.status, errorOf(readByWriter).message]).toEqual([
      403,
      'This operation needs the events:read scope',
    ]);
    const writeByReader = await api(gw, 'POST', '/v1.0/event/auth.scope', {}, { auth: reader });
    expect([writeByReader.status, errorOf(writeByReader).code]).toEqual([403, 'forbidden']);
    const keysByReader = await api(gw, 'GET', '/api/v1/api-keys', undefined, { auth: reader });
    expect([keysByReader.status, errorOf(keysByReader).message]).toEqual([
      403,
      'This operation needs the admin scope',
    ]);
  });

  it('creates an rtn_ key shown once, lists it without the secret, stores only its hash', async () => {
    const res = await api(gw, 'POST', '/api/v1/api-keys', {
      name: 'ci',
      scopes: ['events:read'],
    });
    expect(res.status).toBe(201);
    const created = res.body as { id: string; key: string; scopes: string[]; name: string };
    secrets.push(created.key);
    expect(created.key).toMatch(/^rtn_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'ci', scopes: ['events:read'], last_used_at: null });
    expect(created.id).toBe(`ak_${created.key.slice(4, 20)}`);

    const list = await api(gw, 'GET', '/api/v1/api-keys');
    expect(list.status).toBe(200);
    const listed = (list.body as { data: Array<Record<string, unknown>> }).data;
    expect(listed.find((k) => k.id === created.id)).toEqual({
      id: created.id,
      name: 'ci',
      scopes: ['events:read'],
      created_at: expect.any(String),
      last_used_at: null,
    });
    expect(list.text).not.toContain(created.key.slice(21));

    const rows = await gw.schema.pool.query<Record<string, unknown>>(
      'SELECT * FROM api_keys WHERE id = $1',
      [created.id],
    );
    expect(JSON.stringify(rows.rows)).not.toContain(created.key.slice(21));
    expect((rows.rows[0]?.key_hash as Buffer).length).toBe(32);

    expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: created.key })).status).toBe(
      200,
    );
    // last use is recorded in the background (at most once a minute per key and process)
    await eventually(async () => {
      const after = await api(gw, 'GET', '/api/v1/api-keys');
      const row = (after.body as { data: Array<{ id: string; last_used_at: string | null }> }).data;
      expect(row.find((k) => k.id === created.id)?.last_used_at).toEqual(expect.any(String));
    });
  });

  it('answers 422 naming the field for a key request with an unknown scope', async () => {
    const res = await api(gw, 'POST', '/api/v1/api-keys', { name: 'x', scopes: ['root'] });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { details: [{ path: 'body.scopes.0' }] } });
  });

  it('revokes a key with DELETE: it is refused at once, a second DELETE is 404', async () => {
    const key = await gw.createKey(gw.tenantId, ['events:read'], 'to revoke');
    secrets.push(key);
    const id = `ak_${key.slice(4, 20)}`;
    expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: key })).status).toBe(200);

    expect((await api(gw, 'DELETE', `/api/v1/api-keys/${id}`)).status).toBe(204);

    const after = await api(gw, 'GET', '/api/v1/events', undefined, { auth: key });
    expect([after.status, errorOf(after).message]).toEqual([401, 'The API key has been revoked']);
    const again = await api(gw, 'DELETE', `/api/v1/api-keys/${id}`);
    expect([again.status, errorOf(again).code]).toEqual([404, 'not_found']);
    const listed = await api(gw, 'GET', '/api/v1/api-keys');
    expect(listed.text).not.toContain(id);
  });

  it('hides a tenant’s keys and events from another tenant: 404, not 403', async () => {
    const other = await otherTenant(gw);
    secrets.push(other.apiKey);
    const mine = await gw.createKey(gw.tenantId, ['events:read'], 'mine');
    secrets.push(mine);
    const mineId = `ak_${mine.slice(4, 20)}`;
    const event = await api(gw, 'POST', '/v1.0/event/auth.isolation', { secret: 'tenant-a' });
    const eventId = (event.body as { event_id: string }).event_id;

    await expectHiddenFrom(other, 'DELETE', `/api/v1/api-keys/${mineId}`);
    await expectHiddenFrom(other, 'GET', `/api/v1/events/${eventId}`);
    await expectHiddenFrom(other, 'PUT', `/api/v1/events/${eventId}`, { data: { x: 1 } });
    const list = await other.call('GET', '/api/v1/events');
    expect(list.text).not.toContain(eventId);
    const keys = await other.call('GET', '/api/v1/api-keys');
    expect(keys.text).not.toContain(mineId);
    // the key survived the other tenant's DELETE
    expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: mine })).status).toBe(200);
  });

  it('counts refused credentials in reten_auth_failures_total by reason', async () => {
    const metrics = await api(gw, 'GET', '/metrics', undefined, { auth: null });
    for (const reason of ['missing', 'malformed', 'unknown_key', 'revoked_key']) {
      const m = new RegExp(
        `reten_auth_failures_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`,
      ).exec(metrics.text);
      expect([reason, Number(m?.[1] ?? 0) > 0]).toEqual([reason, true]);
    }
  });

  describe('access tokens', () => {
    async function token(scopes?: string[], auth?: string): Promise<ApiResponse> {
      return api(gw, 'POST', '/api/v1/auth/token', scopes ? { scopes } : undefined, {
        ...(auth === undefined ? {} : { auth }),
      });
    }

    it('exchanges a key for a JWT with sub, tenant, scopes, exp, iss and aud that authenticates', async () => {
      const res = await token();
      expect(res.status).toBe(200);
      const body = res.body as { access_token: string; token_type: string; expires_in: number };
      secrets.push(body.access_token);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
      expect(res.headers.get('cache-control')).toBe('no-store');
      const claims = claimsOf(body.access_token);
      expect(claims).toMatchObject({
        sub: `ak_${gw.apiKey.slice(4, 20)}`,
        tenant: gw.tenantId,
        scopes: ['events:write', 'events:read', 'webhooks:manage', 'stream:read', 'admin'],
        iss: 'reten-test',
        aud: 'reten-test-api',
      });
      expect(claims.exp).toBe((claims.iat as number) + 900);
      const use = await api(gw, 'GET', '/api/v1/events', undefined, { auth: body.access_token });
      expect(use.status).toBe(200);
    });

    it('issues a token with narrower scopes that is refused beyond them', async () => {
      const res = await token(['events:read']);
      expect((res.body as { scopes: string[] }).scopes).toEqual(['events:read']);
      const t = (res.body as { access_token: string }).access_token;
      secrets.push(t);
      expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: t })).status).toBe(200);
      const write = await api(gw, 'POST', '/v1.0/event/auth.narrow', {}, { auth: t });
      expect([write.status, errorOf(write).code]).toEqual([403, 'forbidden']);
      const mint = await token(undefined, t);
      expect([mint.status, errorOf(mint).code]).toEqual([403, 'forbidden']);
    });

    it('answers 403 when the key asks for a scope it does not hold', async () => {
      const reader = await gw.createKey(gw.tenantId, ['events:read'], 'reader');
      secrets.push(reader);
      const res = await token(['events:write'], reader);
      expect([res.status, errorOf(res).message]).toEqual([
        403,
        'The API key does not hold events:write',
      ]);
    });

    it('refuses an expired token, a token with a bad signature and one for another audience', async () => {
      const sub = `ak_${gw.apiKey.slice(4, 20)}`;
      const expired = tokenWith({ ttlSeconds: -5 }, sub, gw.tenantId);
      const forged = tokenWith({ secret: 'another-secret-0123456789' }, sub, gw.tenantId);
      const elsewhere = tokenWith({ audience: 'other' }, sub, gw.tenantId);
      const valid = tokenWith({}, sub, gw.tenantId);
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const none = `${header}.${valid.split('.')[1]}.`;
      for (const [t, message] of [
        [expired, 'The token has expired'],
        [forged, 'The token signature is invalid'],
        [elsewhere, 'The token is not valid for this service'],
        [none, 'The token is not valid for this service'],
      ] as const) {
        const res = await api(gw, 'GET', '/api/v1/events', undefined, { auth: t });
        expect([res.status, errorOf(res).message]).toEqual([401, message]);
        expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      }
    });

    it('stops accepting the tokens of a key as soon as the key is revoked', async () => {
      const key = await gw.createKey(gw.tenantId, ['events:read'], 'token then revoke');
      secrets.push(key);
      const t = ((await token(undefined, key)).body as { access_token: string }).access_token;
      secrets.push(t);
      expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: t })).status).toBe(200);
      expect((await api(gw, 'DELETE', `/api/v1/api-keys/ak_${key.slice(4, 20)}`)).status).toBe(204);
      const res = await api(gw, 'GET', '/api/v1/events', undefined, { auth: t });
      expect([res.status, errorOf(res).message]).toEqual([401, 'The API key has been revoked']);
    });
  });

  // declared last: runs after every test above, including the nested ones
  describe('logs', () => {
    it('never writes a key or token to the logs (checked last, over everything above)', () => {
      expect(sink.lines.length).toBeGreaterThan(0);
      const text = sink.text();
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
        // nor the secret half of a key on its own
        if (secret.startsWith('rtn_')) expect(text).not.toContain(secret.slice(21));
      }
      expect(text).not.toContain(JWT_SECRET);
    });
  });
});
