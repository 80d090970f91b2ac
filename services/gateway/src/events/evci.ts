import { z } from 'zod';
import { ProducerEventTypeSchema } from '@reten/contracts';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import type { Ingestor } from '../ingest/ingestor';
import { idempotencyKeyOf, requestFingerprint } from '../ingest/idempotency-key';
import { tenantOf } from '../tenant';
import { sendIngestResult } from './send-ingest-result';
import type { RouteHandlers } from '../api-route';

export const EvciParamsSchema = z.object({ type: ProducerEventTypeSchema });

/** EVCI ingest: `POST /v1.0/event/{type}` with any JSON body → 202 `{event_id}`. */
export function evciHandlers(ingestor: Ingestor): RouteHandlers {
  const routes: RouteHandlers = {};
  routes.ingestEvent = [
    requireJsonBody,
    async (req, res) => {
      const { type } = parseOrThrow(EvciParamsSchema, req.params, 'params');
      const key = idempotencyKeyOf(req);
      const result = await ingestor.accept({
        api: 'evci',
        tenantId: tenantOf(req),
        eventType: type,
        data: req.body,
        occurredAt: undefined,
        idempotency: key ? { key, fingerprint: requestFingerprint(req) } : undefined,
        render: (envelope) => ({ event_id: envelope.event_id }),
      });
      sendIngestResult(res, result);
    },
  ];
  return routes;
}
