import express from 'express';
import type { Express } from 'express';
import type { RequestListener } from 'node:http';
import {
  errorHandler,
  jsonBody,
  notFoundHandler,
  opsRouter,
  requestMetrics,
  withPlainRoutes,
} from '@reten/http';
import { authenticate, requireScope, scopePolicy } from './access/authenticate';
import { rateLimiter } from './access/rate-limit';
import type { Authenticator, TenantStore } from '@reten/auth';
import type { Redis } from 'ioredis';
import type { Lifecycle, Logger, ReadinessCheck, Registry } from '@reten/observability';
import type { EventStore, IdempotencyStore } from '@reten/store';
import { databaseUnavailableError } from '@reten/store';
import { idempotencyMiddleware } from './idempotency-middleware';
import { ingestChargeOf, rateChargeOf } from './access/rate-charges';
import type { RateLimitSettings } from './access/rate-charges';
import { DEFAULT_ROUTE_SCOPE } from './access/route-scopes';
import { API_ROUTES, ROUTE_SCOPES } from './route-table';
import { expressPath, mountRoutes } from './api-route';
import type { TenantLimitsCache } from './access/tenant-limits-cache';
import { apiKeysHandlers } from './access/api-keys';
import { authTokenHandlers } from './access/auth-token';
import { tenantLimitsHandlers } from './access/tenant-limits';
import type { TenantRetentionDeps } from './access/tenant-limits';
import type { Ingestor } from './ingest/ingestor';
import { evciHandlers } from './events/evci';
import type { EventStatusReaders } from './events/event-status';
import { eventsHandlers } from './events/events';
import { deliveriesHandlers } from './webhooks/delivery-routes';
import { webhooksHandlers } from './webhooks/endpoint-routes';
import type { WebhooksRouterDeps } from './webhooks/endpoint-routes';
import { webhookActivityHandlers } from './webhooks/endpoint-activity-routes';
import { eventTypesHandlers } from './events/event-types';
import { eworkersHandlers } from './eworkers-api/eworker-routes';
import { methodNotAllowed } from './method-not-allowed';
import { consoleRouter } from './console-assets';
import { eventRevisionsHandlers } from './events/event-revisions';
import type { EventRevisionsRepo } from './events/event-revisions';
import { webhookTimelineHandlers } from './webhooks/stats-timeline';
import type { WebhookTimelineRepo } from './webhooks/stats-timeline';
import type { EworkersRouterDeps } from './eworkers-api/eworker-routes';

export interface AppDeps {
  ingestor: Ingestor;
  store: EventStore;
  statusReaders: EventStatusReaders;
  registry: Registry;
  lifecycle: Lifecycle;
  readiness: ReadinessCheck[];
  openApiDocument: unknown;
  bodyLimitBytes: number;
  log: Logger;
  authenticator: Authenticator;
  tenants: TenantStore;
  tenantLimits: TenantLimitsCache;
  /** Tenants' events retention: its bounds (tenant limits) and the replay notice. */
  retention: TenantRetentionDeps;
  /** Absent: no rate limits (RATE_LIMIT_ENABLED=false). */
  rateLimits:
    | { redis: Redis; keyPrefix: string; leaseBlocks: number; settings: RateLimitSettings }
    | undefined;
  /** Idempotency-Key records of the routes the idempotency middleware covers. */
  idempotency: IdempotencyStore;
  webhooks: WebhooksRouterDeps;
  eworkers: EworkersRouterDeps;
  webhookTimeline: WebhookTimelineRepo;
  eventRevisions: EventRevisionsRepo;
}

/**
 * EVCI's path as a plain route matches it: `/v1.0/event/{type}` spelt exactly so, the type with
 * nothing to decode (no `%`), any query. Other spellings express still routes (another case, a
 * trailing slash, an encoded type) reach the same chain through the app.
 */
const EVCI_TARGET = /^\/v1\.0\/event\/(?<type>[^/?#%]+)(?:\?|$)/;

/** The gateway's HTTP surface: the express app, and the listener the server runs. */
export interface GatewayHttp {
  /** Ops routes, EVCI, REST events, the error envelope everywhere. */
  app: Express;
  /**
   * Answers `POST /v1.0/event/{type}` on node:http's request and response with the EVCI
   * route's own chain (see `withPlainRoutes`), everything else through `app`.
   */
  listener: RequestListener;
}

/** The gateway's express app and its listener (the hot path ahead of express). */
export function createApp(deps: AppDeps): GatewayHttp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const metrics = requestMetrics(deps.registry);
  app.use(metrics);
  const limiter =
    deps.rateLimits &&
    rateLimiter({
      redis: deps.rateLimits.redis,
      keyPrefix: deps.rateLimits.keyPrefix,
      leaseBlocks: deps.rateLimits.leaseBlocks,
      log: deps.log,
      registry: deps.registry,
    });
  const authenticated = authenticate(deps.authenticator);
  const evci = evciHandlers(deps.ingestor);
  // the hot path first, with only what it needs, in the order every other route gets it
  // (credentials, rate limit, scope, body): a request no longer walks every router before it
  const ingestRoute = API_ROUTES.find((r) => r.operationId === 'ingestEvent');
  if (!ingestRoute?.scope || !evci.ingestEvent) throw new Error('ingestEvent is not served');
  const ingestPath = expressPath(ingestRoute.path);
  const ingestChain = [
    authenticated,
    ...(limiter && deps.rateLimits
      ? [limiter(ingestChargeOf(deps.rateLimits.settings, deps.tenantLimits))]
      : []),
    requireScope(ingestRoute.scope),
    jsonBody(deps.bodyLimitBytes),
    ...evci.ingestEvent,
  ];
  app.post(ingestPath, ...ingestChain);
  app.use(
    opsRouter({ registry: deps.registry, lifecycle: deps.lifecycle, checks: deps.readiness }),
  );
  const openApiJson = JSON.stringify(deps.openApiDocument);
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApiJson);
  });
  app.use(consoleRouter());
  // everything below needs credentials; scopes come from the one route table (route-table.ts)
  app.use(authenticated);
  if (limiter && deps.rateLimits) {
    app.use(limiter(rateChargeOf(deps.rateLimits.settings, deps.tenantLimits, API_ROUTES)));
  }
  app.use(scopePolicy(ROUTE_SCOPES, DEFAULT_ROUTE_SCOPE));
  app.use(jsonBody(deps.bodyLimitBytes));
  app.use(idempotencyMiddleware(API_ROUTES, deps.idempotency, deps.log));
  app.use(
    // every route but ingest, which is mounted ahead of the others (above)
    mountRoutes(
      API_ROUTES.filter((r) => r !== ingestRoute),
      {
        ...authTokenHandlers(deps.authenticator),
        ...apiKeysHandlers(deps.authenticator),
        ...tenantLimitsHandlers(deps),
        ...eventRevisionsHandlers(deps.eventRevisions),
        ...eventsHandlers(deps.ingestor, deps.store, deps.statusReaders),
        ...eventTypesHandlers(deps.eworkers.queries),
        ...eworkersHandlers(deps.eworkers),
        ...webhookTimelineHandlers(deps.webhookTimeline),
        ...webhooksHandlers(deps.webhooks),
        ...webhookActivityHandlers(deps.webhooks, deps.retention),
        ...deliveriesHandlers(deps.webhooks.deliveries),
      },
    ),
  );
  app.use(methodNotAllowed(deps.openApiDocument));
  app.use(notFoundHandler);
  const onError = errorHandler(deps.log, { dependencyError: databaseUnavailableError });
  app.use(onError);
  const listener = withPlainRoutes(
    app,
    [
      {
        method: 'POST',
        pattern: EVCI_TARGET,
        routePath: ingestPath,
        chain: [metrics, ...ingestChain],
      },
    ],
    onError,
  );
  return { app, listener };
}
