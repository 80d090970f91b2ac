import { Router } from 'express';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ErrorEnvelopeSchema } from '@reten/contracts';
import type { Scope } from '@reten/contracts';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';

export const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Which rate counter a route is charged to: `ingest` per tenant, `rest` per key. */
export type RateBucket = 'rest' | 'ingest';

/** What the layers in front of a route need to know about it. */
export interface RoutePolicy {
  /** The scope the caller needs; null: any authenticated caller (scopes can only narrow). */
  scope: Scope | null;
  rateBucket: RateBucket;
  /**
   * How `Idempotency-Key` is honoured: `middleware` (the one idempotency middleware records
   * the first 2xx answer), `ingest` (the ingest path claims the key in the event's own
   * transaction), `none` (reads, and creates whose answer holds a credential that must not
   * be stored).
   */
  idempotency: 'none' | 'middleware' | 'ingest';
}

/** One route of the API: method and path (OpenAPI form, `{id}`), its policy and operation. */
export interface ApiRoute extends RoutePolicy {
  method: HttpMethod;
  path: string;
  operationId: string;
  operation: ZodOpenApiOperationObject;
}

/** A path pattern (`/api/v1/webhooks/{id}`) as a regular expression of request paths. */
export function pathPattern(path: string): RegExp {
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}\\/?$`);
}

/**
 * Joins the OpenAPI operations the features declare with the policy of each, by operation id.
 * Fails at start when an operation has no policy or a policy names no operation, so a new
 * route cannot be served without saying who may call it.
 */
export function routesOf(
  paths: readonly ZodOpenApiPathsObject[],
  policies: Readonly<Record<string, RoutePolicy>>,
): ApiRoute[] {
  const routes: ApiRoute[] = [];
  for (const group of paths) {
    for (const [path, item] of Object.entries(group)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const operationId = operation.operationId;
        const policy = operationId === undefined ? undefined : policies[operationId];
        if (operationId === undefined || !policy) {
          throw new Error(`route ${method.toUpperCase()} ${path} has no entry in the route table`);
        }
        routes.push({ method, path, operationId, operation, ...policy });
      }
    }
  }
  const served = new Set(routes.map((r) => r.operationId));
  const unserved = Object.keys(policies).filter((id) => !served.has(id));
  if (unserved.length > 0) {
    throw new Error(`route table entries without an operation: ${unserved.join(', ')}`);
  }
  return routes;
}

const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .max(255)
    .optional()
    .describe('Same key and body → the first answer again (IETF Idempotency-Key draft)'),
});

/** An operation as documented: a route honouring `Idempotency-Key` declares it and its 409. */
function documented(route: ApiRoute): ZodOpenApiOperationObject {
  if (route.idempotency === 'none') return route.operation;
  const op = route.operation;
  const params = op.requestParams ?? {};
  return {
    ...op,
    requestParams: params.header ? params : { ...params, header: idempotencyHeader },
    responses: {
      '409': {
        description: '`idempotency_key_in_progress`',
        content: { 'application/json': { schema: ErrorEnvelopeSchema } },
      },
      ...op.responses,
    },
  };
}

/** The routes grouped by path, as the OpenAPI document lists them. */
export function pathsOf(routes: readonly ApiRoute[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method]: documented(route) };
  }
  return paths;
}

/** An OpenAPI path (`/api/v1/webhooks/{id}`) as express writes it (`/api/v1/webhooks/:id`). */
export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** The handlers of routes by operation id (middleware first, as express takes them). */
export type RouteHandlers = Partial<Record<string, RequestHandler[]>>;

/**
 * One router serving every route of the table with its handlers, at the table's method and
 * path. Fails at start when a route has no handler or a handler no route.
 */
export function mountRoutes(routes: readonly ApiRoute[], handlers: RouteHandlers): Router {
  const router = Router();
  for (const route of routes) {
    const chain = handlers[route.operationId];
    if (!chain) throw new Error(`route ${route.operationId} has no handler`);
    router[route.method](expressPath(route.path), ...chain);
  }
  const listed = new Set(routes.map((r) => r.operationId));
  const stray = Object.keys(handlers).filter((id) => !listed.has(id));
  if (stray.length > 0) throw new Error(`handlers without a route: ${stray.join(', ')}`);
  return router;
}
