import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import {
  ErrorEnvelopeSchema,
  EventTypeListSchema,
  EventTypeNameSchema,
  EventTypeSchema,
  RetenError,
} from '@reten/contracts';
import type { EventType, EventTypeList } from '@reten/contracts';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';

export const EventTypeParamsSchema = z.object({ type: EventTypeNameSchema });

/**
 * Where event types come from: the schemas eworkers registered and the caller's counts (the
 * eworkers API's queries answer it; this folder does not depend on them).
 */
export interface EventTypeQueries {
  eventTypes(tenantId: string, only?: string): Promise<EventType[]>;
}

/** The OpenAPI operations of the event types routes. */
export const eventTypePaths: ZodOpenApiPathsObject = {
  '/api/v1/event-types': {
    get: {
      operationId: 'listEventTypes',
      summary:
        'Registered types (JSON Schema, eworkers) and the types the caller has events of, with counts',
      responses: {
        '200': {
          description: 'Event types',
          content: { 'application/json': { schema: EventTypeListSchema } },
        },
      },
    },
  },
  '/api/v1/event-types/{type}': {
    get: {
      operationId: 'getEventType',
      requestParams: { path: EventTypeParamsSchema },
      responses: {
        '200': {
          description: 'The type, its registrations and the caller’s counts',
          content: { 'application/json': { schema: EventTypeSchema } },
        },
        '404': {
          description: '`not_found`: neither registered nor used by the caller',
          content: { 'application/json': { schema: ErrorEnvelopeSchema } },
        },
      },
    },
  },
};

/** `GET /api/v1/event-types` and `/{type}`: schema, eworkers and the caller's counts. */
export function eventTypesHandlers(queries: EventTypeQueries): RouteHandlers {
  const routes: RouteHandlers = {};
  routes.listEventTypes = [
    async (req, res) => {
      const body: EventTypeList = { data: await queries.eventTypes(tenantOf(req)) };
      res.json(body);
    },
  ];
  routes.getEventType = [
    async (req, res) => {
      const parsed = EventTypeParamsSchema.safeParse(req.params);
      const type = parsed.success ? parsed.data.type : undefined;
      const found = type ? await queries.eventTypes(tenantOf(req), type) : [];
      const first = found[0];
      if (!first) {
        throw new RetenError('not_found', `No event type ${String(req.params.type)} is known`);
      }
      res.json(first);
    },
  ];
  return routes;
}
