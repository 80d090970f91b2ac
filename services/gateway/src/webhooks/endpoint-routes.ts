import { Router } from 'express';
import { z } from 'zod';
import {
  CreateWebhookRequestSchema,
  ListDeliveriesQuerySchema,
  ListWebhooksQuerySchema,
  ReplayRequestSchema,
  RetenError,
  RotateSecretRequestSchema,
  UpdateWebhookRequestSchema,
  WEBHOOK_TEST_EVENT_TYPE,
  WebhookIdSchema,
} from '@reten/contracts';
import type { CreatedWebhookEndpoint, DeliveryList, WebhookList } from '@reten/contracts';
import { optionalBodyOf, optionalJsonBody, parseOrThrow, requireJsonBody } from '@reten/http';
import { newEventId, newPrefixedId } from '@reten/store';
import type { EventStore, WebhookDeliveryRepo, WebhookEndpointRepo } from '@reten/store';
import { generateEd25519KeyPair, generateSecret } from '@reten/webhooks';
import type { TargetPolicy } from '@reten/webhooks';
import { tenantOf } from '../tenant';
import { checkWebhookUrl } from './target-check';

export const WebhookIdParamsSchema = z.object({ id: WebhookIdSchema });

export interface WebhooksRouterDeps {
  endpoints: WebhookEndpointRepo;
  deliveries: WebhookDeliveryRepo;
  store: EventStore;
  policy: TargetPolicy;
  /** Default grace period of a rotated secret. */
  rotationGraceSeconds: number;
}

function notFound(id: string): RetenError {
  return new RetenError('not_found', `No webhook with id ${id}`);
}

function idOrNotFound(params: unknown): string {
  const parsed = WebhookIdParamsSchema.safeParse(params);
  if (!parsed.success) throw notFound(String((params as { id?: unknown }).id));
  return parsed.data.id;
}

/** Opaque cursor: base64url of the last id of the page. */
function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined, pattern: RegExp): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!pattern.test(id)) {
    throw new RetenError('validation_failed', 'Invalid cursor', [
      { path: 'query.cursor', message: 'must be a next_cursor value returned by this API' },
    ]);
  }
  return id;
}

/** `/api/v1/webhooks`: endpoints CRUD, secret rotation, test event, history, replay, stats. */
export function webhooksRouter(deps: WebhooksRouterDeps): Router {
  const router = Router();
  const { endpoints, deliveries } = deps;

  const mustGet = async (tenantId: string, id: string) => {
    const endpoint = await endpoints.get(tenantId, id);
    if (!endpoint) throw notFound(id);
    return endpoint;
  };

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
    });
    return { ...created, secret };
  };

  router.post('/api/v1/webhooks', requireJsonBody, async (req, res) => {
    const body = parseOrThrow(CreateWebhookRequestSchema, req.body, 'body');
    const url = await checkWebhookUrl(body.url, deps.policy);
    const tenantId = tenantOf(req);
    const answer = await createEndpoint(tenantId, url, body);
    res
      .status(201)
      .location(`/api/v1/webhooks/${answer.id}`)
      .type('application/json')
      .send(JSON.stringify(answer));
  });

  router.get('/api/v1/webhooks', async (req, res) => {
    const query = parseOrThrow(ListWebhooksQuerySchema, req.query, 'query');
    const after = decodeCursor(query.cursor, /^wh_[0-9A-Z]{26}$/);
    const rows = await endpoints.list(tenantOf(req), after, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const body: WebhookList = {
      data: page,
      next_cursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
    };
    res.json(body);
  });

  router.get('/api/v1/webhooks/:id', async (req, res) => {
    res.json(await mustGet(tenantOf(req), idOrNotFound(req.params)));
  });

  router.patch('/api/v1/webhooks/:id', requireJsonBody, async (req, res) => {
    const id = idOrNotFound(req.params);
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
    });
    if (!updated) throw notFound(id);
    res.json(updated);
  });

  router.delete('/api/v1/webhooks/:id', async (req, res) => {
    const id = idOrNotFound(req.params);
    if (!(await endpoints.delete(tenantOf(req), id))) throw notFound(id);
    res.status(204).end();
  });

  router.post('/api/v1/webhooks/:id/rotate-secret', optionalJsonBody, async (req, res) => {
    const id = idOrNotFound(req.params);
    const body = parseOrThrow(RotateSecretRequestSchema, optionalBodyOf(req), 'body');
    const secret = generateSecret();
    const grace = body.grace_period_seconds ?? deps.rotationGraceSeconds;
    const result = await endpoints.rotateSecret(tenantOf(req), id, secret, grace);
    if (result === undefined) throw notFound(id);
    if (result === 'ed25519') {
      throw new RetenError('conflict', 'An ed25519 endpoint has no shared secret to rotate');
    }
    res.json({
      secret,
      previous_secret_expires_at: result.previousExpiresAt?.toISOString() ?? null,
    });
  });

  router.post('/api/v1/webhooks/:id/test', async (req, res) => {
    const tenantId = tenantOf(req);
    const endpoint = await mustGet(tenantId, idOrNotFound(req.params));
    const eventId = newEventId();
    // delivered only to this endpoint, whatever its filters (see services/delivery fan-out)
    await deps.store.insertBatch(
      [
        {
          tenantId,
          eventId,
          revision: 1,
          eventType: WEBHOOK_TEST_EVENT_TYPE,
          occurredAt: new Date(),
          dataJson: JSON.stringify({ webhook_id: endpoint.id, message: 'Test event from Reten' }),
        },
      ],
      [],
    );
    res.status(202).json({ event_id: eventId });
  });

  router.get('/api/v1/webhooks/:id/deliveries', async (req, res) => {
    const tenantId = tenantOf(req);
    const endpoint = await mustGet(tenantId, idOrNotFound(req.params));
    const query = parseOrThrow(ListDeliveriesQuerySchema, req.query, 'query');
    const before = decodeCursor(query.cursor, /^dlv_[0-9A-Z]{26}$/);
    const rows = await deliveries.list(tenantId, endpoint.id, {
      status: query.status,
      beforeId: before,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const body: DeliveryList = {
      data: page,
      next_cursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
    };
    res.json(body);
  });

  router.get('/api/v1/webhooks/:id/stats', async (req, res) => {
    const tenantId = tenantOf(req);
    const endpoint = await mustGet(tenantId, idOrNotFound(req.params));
    res.json(await deliveries.stats(tenantId, endpoint.id));
  });

  router.post('/api/v1/webhooks/:id/replay', requireJsonBody, async (req, res) => {
    const tenantId = tenantOf(req);
    const endpoint = await mustGet(tenantId, idOrNotFound(req.params));
    const body = parseOrThrow(ReplayRequestSchema, req.body, 'body');
    if (!endpoint.enabled) {
      throw new RetenError('conflict', 'The webhook is disabled; enable it before replaying');
    }
    const queued = await deliveries.replay(
      tenantId,
      { id: endpoint.id, eventTypes: endpoint.event_types },
      new Date(body.since),
      body.failed_only,
    );
    res.status(202).json({ queued });
  });

  return router;
}
