import { Router } from 'express';
import { z } from 'zod';
import { EventTypeNameSchema, RetenError } from '@reten/contracts';
import type { EventTypeList } from '@reten/contracts';
import type { EworkerQueries } from '../eworkers-api/eworker-queries';
import { tenantOf } from '../tenant';

export const EventTypeParamsSchema = z.object({ type: EventTypeNameSchema });

/** `GET /api/v1/event-types` and `/{type}`: schema, eworkers and the caller's counts. */
export function eventTypesRouter(queries: EworkerQueries): Router {
  const router = Router();
  router.get('/api/v1/event-types', async (req, res) => {
    const body: EventTypeList = { data: await queries.eventTypes(tenantOf(req)) };
    res.json(body);
  });
  router.get('/api/v1/event-types/:type', async (req, res) => {
    const parsed = EventTypeParamsSchema.safeParse(req.params);
    const type = parsed.success ? parsed.data.type : undefined;
    const found = type ? await queries.eventTypes(tenantOf(req), type) : [];
    const first = found[0];
    if (!first) {
      throw new RetenError('not_found', `No event type ${String(req.params.type)} is known`);
    }
    res.json(first);
  });
  return router;
}
