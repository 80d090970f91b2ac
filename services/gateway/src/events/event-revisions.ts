import type { Pool } from 'pg';
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { ErrorEnvelopeSchema, EventIdSchema, RetenError } from '@reten/contracts';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';

/** Most revisions one answer lists (the oldest first); an event rarely has more than a few. */
export const MAX_REVISIONS = 100;

const EventRevisionSchema = z.object({
  revision: z.number().int(),
  timestamp: z.iso.datetime({ offset: true }),
  data: z.unknown(),
  received_at: z.iso.datetime({ offset: true }),
  published_at: z.iso.datetime({ offset: true }).nullable(),
  current: z.boolean(),
});

export const EventRevisionListSchema = z
  .object({ data: z.array(EventRevisionSchema).describe(`Oldest first, at most ${MAX_REVISIONS}`) })
  .meta({ id: 'EventRevisionList' });
export type EventRevisionList = z.infer<typeof EventRevisionListSchema>;

const ParamsSchema = z.object({ id: EventIdSchema });

/** Every stored revision of one event of a tenant (the console's event page shows them). */
export class EventRevisionsRepo {
  constructor(private readonly pool: Pool) {}

  async list(tenantId: string, eventId: string): Promise<EventRevisionList['data']> {
    const res = await this.pool.query<{
      revision: number;
      occurred_at: Date;
      data: unknown;
      received_at: Date;
      published_at: Date | null;
      is_current: boolean;
    }>(
      `SELECT revision, occurred_at, data, received_at,
              reten_published_at(stream_position, published_at) AS published_at, is_current
         FROM events
        WHERE tenant_id = $1 AND event_id = $2 ORDER BY revision LIMIT $3`,
      [tenantId, eventId, MAX_REVISIONS],
    );
    return res.rows.map((r) => ({
      revision: r.revision,
      timestamp: r.occurred_at.toISOString(),
      data: r.data,
      received_at: r.received_at.toISOString(),
      published_at: r.published_at ? r.published_at.toISOString() : null,
      current: r.is_current,
    }));
  }
}

/** `GET /api/v1/events/{id}/revisions`. */
export function eventRevisionsHandlers(repo: EventRevisionsRepo): RouteHandlers {
  const routes: RouteHandlers = {};
  routes.listEventRevisions = [
    async (req, res) => {
      const params = ParamsSchema.safeParse(req.params);
      const notFound = () =>
        new RetenError('not_found', `No event with id ${String(req.params.id)}`);
      if (!params.success) throw notFound();
      const data = await repo.list(tenantOf(req), params.data.id);
      if (data.length === 0) throw notFound();
      const body: EventRevisionList = { data };
      res.json(body);
    },
  ];
  return routes;
}

/** The OpenAPI operation of the revisions list (merged into the gateway's document). */
export const eventRevisionsPaths: ZodOpenApiPathsObject = {
  '/api/v1/events/{id}/revisions': {
    get: {
      operationId: 'listEventRevisions',
      summary: 'Every revision of the event, oldest first, with its data',
      requestParams: { path: ParamsSchema },
      responses: {
        '200': {
          description: 'The revisions',
          content: { 'application/json': { schema: EventRevisionListSchema } },
        },
        '404': {
          description: '`not_found`: no such event for the caller’s tenant',
          content: { 'application/json': { schema: ErrorEnvelopeSchema } },
        },
      },
    },
  },
};
