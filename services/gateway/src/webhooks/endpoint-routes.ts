import {
  CreateWebhookRequestSchema,
  ListWebhooksQuerySchema,
  RetenError,
  RotateSecretRequestSchema,
  UpdateWebhookRequestSchema,
} from '@reten/contracts';
import type { CreatedWebhookEndpoint, WebhookList } from '@reten/contracts';
import { optionalBodyOf, optionalJsonBody, parseOrThrow, requireJsonBody } from '@reten/http';
import { newPrefixedId } from '@reten/store';
import type { EventStore, WebhookDeliveryRepo, WebhookEndpointRepo } from '@reten/store';
import { generateEd25519KeyPair, generateSecret } from '@reten/webhooks';
import type { TargetPolicy } from '@reten/webhooks';
import { decodeCursor, pageOf } from '../page-cursor';
import { tenantOf } from '../tenant';
import { endpointOrNotFound, webhookIdOf, webhookNotFound } from './endpoint-lookup';
import { checkWebhookUrl } from './target-check';
import type { RouteHandlers } from '../api-route';

export interface WebhooksRouterDeps {
  endpoints: WebhookEndpointRepo;
  deliveries: WebhookDeliveryRepo;
  store: EventStore;
  policy: TargetPolicy;
  /** Default grace period of a rotated secret. */
  rotationGraceSeconds: number;
}

const isEndpointId = (id: string) => /^wh_[0-9A-Z]{26}$/.test(id);

/** `/api/v1/webhooks`: endpoints CRUD and secret rotation. */
export function webhooksHandlers(deps: WebhooksRouterDeps): RouteHandlers {
  const routes: RouteHandlers = {};
  const { endpoints } = deps;

  const createEndpoint = async (
    tenantId: string,
    url: string,
    body: ReturnType<typeof CreateWebhookRequestSchema.parse>,
  ): Promise<CreatedWebhookEndpoint> => {
    const keys = body.signing === 'ed25519' ? generateEd25519KeyPair() : undefined;
    const secret = keys ? null : generateSecret();
    const created = await endpoints.create({
      id: newPrefixedId('wh'),
      tenantId,
      url,
      description: body.description,
      eventTypes: body.event_types,
      enabled: body.enabled,
      rateLimitPerSecond: body.rate_limit_per_second,
      headers: body.headers,
      retryScheduleSeconds: body.retry_schedule_seconds,
      signing: body.signing,
      secret,
      publicKey: keys?.publicKey ?? null,
      privateKey: keys?.privateKey ?? null,
      onFailure: body.on_failure,
    });
    return { ...created, secret };
  };

  routes.createWebhook = [
    requireJsonBody,
    async (req, res) => {
      const body = parseOrThrow(CreateWebhookRequestSchema, req.body, 'body');
      const url = await checkWebhookUrl(body.url, deps.policy);
      const tenantId = tenantOf(req);
      const answer = await createEndpoint(tenantId, url, body);
      res
        .status(201)
        .location(`/api/v1/webhooks/${answer.id}`)
        .type('application/json')
        .send(JSON.stringify(answer));
    },
  ];

  routes.listWebhooks = [
    async (req, res) => {
      const query = parseOrThrow(ListWebhooksQuerySchema, req.query, 'query');
      const after =
        query.cursor === undefined ? undefined : decodeCursor(query.cursor, isEndpointId);
      const rows = await endpoints.list(tenantOf(req), after, query.limit + 1);
      const { page, nextCursor } = pageOf(rows, query.limit, (row) => row.id);
      const body: WebhookList = { data: page, next_cursor: nextCursor };
      res.json(body);
    },
  ];

  routes.getWebhook = [
    async (req, res) => {
      res.json(await endpointOrNotFound(endpoints, tenantOf(req), webhookIdOf(req.params)));
    },
  ];

  routes.updateWebhook = [
    requireJsonBody,
    async (req, res) => {
      const id = webhookIdOf(req.params);
      const body = parseOrThrow(UpdateWebhookRequestSchema, req.body, 'body');
      const url = body.url === undefined ? undefined : await checkWebhookUrl(body.url, deps.policy);
      const updated = await endpoints.update(tenantOf(req), id, {
        ...(url === undefined ? {} : { url }),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.event_types === undefined ? {} : { eventTypes: body.event_types }),
        ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
        ...(body.rate_limit_per_second === undefined
          ? {}
          : { rateLimitPerSecond: body.rate_limit_per_second }),
        ...(body.headers === undefined ? {} : { headers: body.headers }),
        ...(body.retry_schedule_seconds === undefined
          ? {}
          : { retryScheduleSeconds: body.retry_schedule_seconds }),
        ...(body.on_failure === undefined ? {} : { onFailure: body.on_failure }),
      });
      if (!updated) throw webhookNotFound(id);
      res.json(updated);
    },
  ];

  routes.deleteWebhook = [
    async (req, res) => {
      const id = webhookIdOf(req.params);
      if (!(await endpoints.delete(tenantOf(req), id))) throw webhookNotFound(id);
      res.status(204).end();
    },
  ];

  routes.rotateWebhookSecret = [
    optionalJsonBody,
    async (req, res) => {
      const id = webhookIdOf(req.params);
      const body = parseOrThrow(RotateSecretRequestSchema, optionalBodyOf(req), 'body');
      const secret = generateSecret();
      const grace = body.grace_period_seconds ?? deps.rotationGraceSeconds;
      const result = await endpoints.rotateSecret(tenantOf(req), id, secret, grace);
      if (result === undefined) throw webhookNotFound(id);
      if (result === 'ed25519') {
        throw new RetenError('conflict', 'An ed25519 endpoint has no shared secret to rotate');
      }
      res.json({
        secret,
        previous_secret_expires_at: result.previousExpiresAt?.toISOString() ?? null,
      });
    },
  ];

  return routes;
}
