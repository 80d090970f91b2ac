import type { RoutePolicy } from './api-route';
import { routesOf } from './api-route';
import { authPaths } from './access/openapi-auth';
import { scopeRulesOf } from './access/route-scopes';
import { eventRevisionsPaths } from './events/event-revisions';
import { eventTypePaths } from './events/event-types';
import { eventPaths } from './events/openapi-events';
import { eworkerPaths } from './eworkers-api/openapi-eworkers';
import { webhookPaths } from './webhooks/openapi-webhooks';
import { webhookTimelinePaths } from './webhooks/stats-timeline';

const rest = (
  scope: RoutePolicy['scope'],
  idempotency: RoutePolicy['idempotency'] = 'none',
): RoutePolicy => ({ scope, rateBucket: 'rest', idempotency });
const ingest: RoutePolicy = { scope: 'events:write', rateBucket: 'ingest', idempotency: 'ingest' };

/**
 * THE route table of the API: each operation the features declare (method, path, OpenAPI
 * operation; its handler is mounted at them by `mountRoutes`) with the scope it needs, the rate counter it is charged to and how it
 * honours `Idempotency-Key`. The scope policy, the rate charges and the OpenAPI document are
 * built from it; an operation missing here stops the gateway at start.
 */
const POLICIES: Readonly<Record<string, RoutePolicy>> = {
  // events
  ingestEvent: ingest,
  createEvent: ingest,
  listEvents: rest('events:read'),
  getEvent: rest('events:read'),
  updateEvent: rest('events:write'),
  listEventRevisions: rest('events:read'),
  listEventTypes: rest('events:read'),
  getEventType: rest('events:read'),
  // webhooks
  createWebhook: rest('webhooks:manage', 'middleware'),
  listWebhooks: rest('webhooks:manage'),
  getWebhook: rest('webhooks:manage'),
  updateWebhook: rest('webhooks:manage'),
  deleteWebhook: rest('webhooks:manage'),
  rotateWebhookSecret: rest('webhooks:manage'),
  testWebhook: rest('webhooks:manage', 'middleware'),
  replayWebhook: rest('webhooks:manage', 'middleware'),
  listWebhookDeliveries: rest('webhooks:manage'),
  getWebhookStats: rest('webhooks:manage'),
  getWebhookTimeline: rest('webhooks:manage'),
  getDelivery: rest('webhooks:manage'),
  retryDelivery: rest('webhooks:manage', 'middleware'),
  // eworkers admin API
  listEworkers: rest('admin'),
  listParked: rest('admin'),
  replayParked: rest('admin', 'middleware'),
  // access
  // the answer holds the new key's secret, which an idempotency record would store in clear
  createApiKey: rest('admin'),
  listApiKeys: rest('admin'),
  revokeApiKey: rest('admin'),
  // any valid key may exchange itself for a token (its scopes can only narrow)
  issueToken: rest(null),
  getTenantLimits: rest('admin'),
  updateTenantLimits: rest('admin'),
};

/** Every route of the API with its policy and OpenAPI operation. */
export const API_ROUTES = routesOf(
  [
    eventPaths,
    eventRevisionsPaths,
    eventTypePaths,
    webhookPaths,
    webhookTimelinePaths,
    eworkerPaths,
    authPaths,
  ],
  POLICIES,
);

/** The route → scope policy the gateway enforces before every router. */
export const ROUTE_SCOPES = scopeRulesOf(API_ROUTES);
