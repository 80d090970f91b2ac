import type { Request, RequestHandler } from 'express';
import { scopeFor } from './access/authenticate';
import { ingestMatcher } from './access/rate-charges';
import { DEFAULT_ROUTE_SCOPE, PUBLIC_PATHS } from './access/route-scopes';
import { mountRoutes } from './api-route';
import { API_ROUTES, ROUTE_SCOPES } from './route-table';
import { startTestGateway } from './test-fixture';
import type { TestGateway } from './test-fixture';
import { declaredRoutes } from './test-routes';

/** `:id` (express) → `{id}` (OpenAPI). */
const openApiForm = (path: string) => path.replace(/:([A-Za-z_]+)/g, '{$1}');

describe('the route table', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('route table');
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('lists exactly the routes the app serves, each once', () => {
    if (!gw.gateway.app) throw new Error('gateway has no app');
    const served = declaredRoutes(gw.gateway.app)
      .filter((r) => !(PUBLIC_PATHS as readonly string[]).includes(r.path))
      .map((r) => `${r.method} ${openApiForm(r.path)}`)
      .sort();
    const listed = API_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    expect(served.length).toBeGreaterThan(20);
    expect(new Set(listed).size).toBe(listed.length);
    expect(served).toEqual(listed);
  });

  it('gives a declared route its scope, another method on its path only credentials, any other path admin', () => {
    const need = (method: string, path: string) =>
      scopeFor(ROUTE_SCOPES, DEFAULT_ROUTE_SCOPE, method, path);
    expect(need('POST', '/v1.0/event/order.created')).toBe('events:write');
    expect(need('GET', '/api/v1/events/evt_1')).toBe('events:read');
    expect(need('HEAD', '/api/v1/events')).toBe('events:read');
    expect(need('PUT', '/api/v1/events/evt_1/')).toBe('events:write');
    expect(need('DELETE', '/api/v1/webhooks/whk_1')).toBe('webhooks:manage');
    expect(need('GET', '/api/v1/webhooks/whk_1/stats/timeline')).toBe('webhooks:manage');
    expect(need('POST', '/api/v1/auth/token')).toBeNull();
    expect(need('DELETE', '/api/v1/events/evt_1')).toBeNull();
    expect(need('GET', '/api/v1/events/evt_1/unknown')).toBe('admin');
    expect(need('GET', '/api/v1/eventsX')).toBe('admin');
    expect(need('GET', '/api/v2/events')).toBe('admin');
  });

  it('charges EVCI and event creation to the ingest bucket, nothing else', () => {
    const isIngest = ingestMatcher(API_ROUTES);
    const req = (method: string, path: string) => ({ method, path }) as Request;
    expect(isIngest(req('POST', '/v1.0/event/order.created'))).toBe(true);
    expect(isIngest(req('POST', '/api/v1/events'))).toBe(true);
    expect(isIngest(req('POST', '/api/v1/events/'))).toBe(true);
    expect(isIngest(req('PUT', '/api/v1/events/evt_1'))).toBe(false);
    expect(isIngest(req('GET', '/api/v1/events'))).toBe(false);
    expect(isIngest(req('POST', '/api/v1/webhooks'))).toBe(false);
    expect(isIngest(req('POST', '/v1.0/event/a/b'))).toBe(false);
  });

  it('refuses to mount a route without a handler, or a handler without a route', () => {
    const handle: RequestHandler = (_req, res) => {
      res.end();
    };
    const all = Object.fromEntries(API_ROUTES.map((r) => [r.operationId, [handle]]));
    expect(() => mountRoutes(API_ROUTES, all)).not.toThrow();
    const { getWebhook: _dropped, ...missing } = all;
    expect(() => mountRoutes(API_ROUTES, missing)).toThrow('route getWebhook has no handler');
    expect(() => mountRoutes(API_ROUTES, { ...all, surprise: [handle] })).toThrow(
      'handlers without a route: surprise',
    );
  });
});
