import { Router } from 'express';
import {
  ListDeliveriesQuerySchema,
  ReplayRequestSchema,
  RetenError,
  WEBHOOK_TEST_EVENT_TYPE,
} from '@reten/contracts';
import type { DeliveryList } from '@reten/contracts';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import { newEventId } from '@reten/store';
import { decodeCursor, pageOf } from '../page-cursor';
import { tenantOf } from '../tenant';
import { endpointOrNotFound, webhookIdOf } from './endpoint-lookup';
import type { WebhooksRouterDeps } from './endpoint-routes';

const isDeliveryId = (id: string) => /^dlv_[0-9A-Z]{26}$/.test(id);

/** `/api/v1/webhooks/{id}/…`: test event, delivery history, stats and replay of an endpoint. */
export function webhookActivityRouter(deps: WebhooksRouterDeps): Router {
  const router = Router();
  const { endpoints, deliveries } = deps;
  const mustGet = (tenantId: string, id: string) => endpointOrNotFound(endpoints, tenantId, id);

  router.post('/api/v1/webhooks/:id/test', async (req, res) => {
    const tenantId = tenantOf(req);
    const endpoint = await mustGet(tenantId, webhookIdOf(req.params));
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
    const endpoint = await mustGet(tenantId, webhookIdOf(req.params));
    const query = parseOrThrow(ListDeliveriesQuerySchema, req.query, 'query');
    const before =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, isDeliveryId);
    const rows = await deliveries.list(tenantId, endpoint.id, {
      status: query.status,
      beforeId: before,
      limit: query.limit + 1,
    });
    const { page, nextCursor } = pageOf(rows, query.limit, (row) => row.id);
    const body: DeliveryList = { data: page, next_cursor: nextCursor };
    res.json(body);
  });

  router.get('/api/v1/webhooks/:id/stats', async (req, res) => {
    const tenantId = tenantOf(req);
    const endpoint = await mustGet(tenantId, webhookIdOf(req.params));
    res.json(await deliveries.stats(tenantId, endpoint.id));
  });

  router.post('/api/v1/webhooks/:id/replay', requireJsonBody, async (req, res) => {
    const tenantId = tenantOf(req);
    const endpoint = await mustGet(tenantId, webhookIdOf(req.params));
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
