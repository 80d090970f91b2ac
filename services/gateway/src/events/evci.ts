import type { Request } from 'express';
import { z } from 'zod';
import {
  ORDERING_KEY_HEADER,
  ORDERING_KEY_RULE,
  ProducerEventTypeSchema,
  RetenError,
  isOrderingKey,
} from '@reten/contracts';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import type { Ingestor } from '../ingest/ingestor';
import { idempotencyKeyOf, requestFingerprint } from '../ingest/idempotency-key';
import { ingestTraceOf } from '../ingest/trace-context';
import { tenantOf } from '../tenant';
import { sendIngestResult } from './send-ingest-result';
import type { RouteHandlers } from '../api-route';

export const EvciParamsSchema = z.object({ type: ProducerEventTypeSchema });

const ORDERING_KEY_HEADER_LOWER = ORDERING_KEY_HEADER.toLowerCase();

/** The `Reten-Ordering-Key` header, or undefined; 422 naming the header when it is invalid. */
function orderingKeyHeaderOf(headers: Request['headers']): string | undefined {
  const key = headers[ORDERING_KEY_HEADER_LOWER];
  if (key === undefined) return undefined;
  // node joins a repeated header with ", ": two keys are refused like any key with a space
  if (typeof key === 'string' && isOrderingKey(key)) return key;
  throw new RetenError('validation_failed', `Invalid ${ORDERING_KEY_HEADER} header`, [
    { path: `headers.${ORDERING_KEY_HEADER_LOWER}`, message: ORDERING_KEY_RULE },
  ]);
}

/** EVCI ingest: `POST /v1.0/event/{type}` with any JSON body → 202 `{event_id}`. */
export function evciHandlers(ingestor: Ingestor): RouteHandlers {
  const routes: RouteHandlers = {};
  routes.ingestEvent = [
    requireJsonBody,
    async (req, res) => {
      const { type } = parseOrThrow(EvciParamsSchema, req.params, 'params');
      const orderingKey = orderingKeyHeaderOf(req.headers);
      const key = idempotencyKeyOf(req);
      const result = await ingestor.accept({
        api: 'evci',
        tenantId: tenantOf(req),
        eventType: type,
        data: req.body,
        occurredAt: undefined,
        orderingKey,
        trace: ingestTraceOf(req),
        idempotency: key ? { key, fingerprint: requestFingerprint(req, orderingKey) } : undefined,
        render: (envelope) => ({ event_id: envelope.event_id }),
      });
      sendIngestResult(res, result);
    },
  ];
  return routes;
}
