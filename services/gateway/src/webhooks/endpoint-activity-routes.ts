import {
  ListDeliveriesQuerySchema,
  ReplayRequestSchema,
  RetenError,
  WEBHOOK_TEST_EVENT_TYPE,
} from '@reten/contracts';
import type { DeliveryList, ReplayResult } from '@reten/contracts';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import { newEventId } from '@reten/store';
import type { TenantRetentionStore } from '@reten/store';
import { decodeCursor, pageOf } from '../page-cursor';
import { tenantOf } from '../tenant';
import { endpointOrNotFound, webhookIdOf } from './endpoint-lookup';
import type { WebhooksRouterDeps } from './endpoint-routes';
import type { RouteHandlers } from '../api-route';

const isDeliveryId = (id: string) => /^dlv_[0-9A-Z]{26}$/.test(id);

/** `/api/v1/webhooks/{id}/…`: test event, delivery history, stats and replay of an endpoint. */
export function webhookActivityHandlers(
  deps: WebhooksRouterDeps,
  retention: { tenants: TenantRetentionStore },
): RouteHandlers {
  const routes: RouteHandlers = {};
  const { endpoints, deliveries } = deps;
  const mustGet = (tenantId: string, id: string) => endpointOrNotFound(endpoints, tenantId, id);

  routes.testWebhook = [
    async (req, res) => {
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
    },
  ];

  routes.listWebhookDeliveries = [
    async (req, res) => {
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
    },
  ];

  routes.getWebhookStats = [
    async (req, res) => {
      const tenantId = tenantOf(req);
      const endpoint = await mustGet(tenantId, webhookIdOf(req.params));
      res.json(await deliveries.stats(tenantId, endpoint.id));
    },
  ];

  routes.replayWebhook = [
    requireJsonBody,
    async (req, res) => {
      const tenantId = tenantOf(req);
      const endpoint = await mustGet(tenantId, webhookIdOf(req.params));
      const body = parseOrThrow(ReplayRequestSchema, req.body, 'body');
      if (!endpoint.enabled) {
        throw new RetenError('conflict', 'The webhook is disabled; enable it before replaying');
      }
      const since = new Date(body.since);
      const queued = await deliveries.replay(
        tenantId,
        { id: endpoint.id, eventTypes: endpoint.event_types },
        since,
        body.failed_only,
      );
      const result: ReplayResult = { queued };
      // retention removed what was created before the window: say so rather than look complete
      const kept = await retention.tenants.effective(tenantId);
      if (since < kept.retainedSince) {
        result.retained_since = kept.retainedSince.toISOString();
        result.notice = `since is before this tenant's events retention window (${kept.effectiveSeconds} s): events created before ${result.retained_since} were removed and are not replayed`;
      }
      res.status(202).json(result);
    },
  ];

  return routes;
}
