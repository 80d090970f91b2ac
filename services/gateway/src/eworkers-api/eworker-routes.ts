import { z } from 'zod';
import type { ConfirmPublisher } from '@reten/broker';
import {
  EworkerNameSchema,
  ListParkedQuerySchema,
  RetenError,
  eworkerQueueName,
} from '@reten/contracts';
import type { EworkerList, ParkedEventList, ReplayParkedResult } from '@reten/contracts';
import { parseOrThrow } from '@reten/http';
import type { EworkerQueries } from './eworker-queries';
import { replayParked } from './parked-replay';
import type { QueueInspector } from './queue-inspector';
import { tenantOf } from '../tenant';
import type { RouteHandlers } from '../api-route';

export const EworkerParamsSchema = z.object({ name: EworkerNameSchema });

export interface EworkersRouterDeps {
  queries: EworkerQueries;
  inspector: QueueInspector;
  publisher: ConfirmPublisher;
  confirmTimeoutMs: number;
}

const INSPECT_TIMEOUT_MS = 2000;

/** `GET /api/v1/eworkers`, `GET …/{name}/parked`, `POST …/{name}/parked/replay`. */
export function eworkersHandlers(deps: EworkersRouterDeps): RouteHandlers {
  const routes: RouteHandlers = {};
  routes.listEworkers = [
    async (req, res) => {
      const rows = await deps.queries.eworkers(tenantOf(req));
      const states = await Promise.all(
        rows.map((r) => deps.inspector.inspect(eworkerQueueName(r.name), INSPECT_TIMEOUT_MS)),
      );
      const body: EworkerList = {
        data: rows.map((r, i) => ({
          name: r.name,
          types: r.types,
          queue: eworkerQueueName(r.name),
          consumers: states[i]?.consumers ?? null,
          queue_depth: states[i]?.messages ?? null,
          processed: r.processed,
          failed: r.failed,
          parked: r.parked,
          last_processed_at: r.lastProcessedAt ? r.lastProcessedAt.toISOString() : null,
          registered_at: r.registeredAt.toISOString(),
        })),
      };
      res.json(body);
    },
  ];
  /** The eworker named in the path, or 404. */
  const eworkerOf = async (params: unknown): Promise<string> => {
    const parsed = EworkerParamsSchema.safeParse(params);
    if (!parsed.success || !(await deps.queries.exists(parsed.data.name))) {
      throw new RetenError(
        'not_found',
        `No eworker named ${String((params as { name?: unknown }).name)}`,
      );
    }
    return parsed.data.name;
  };
  routes.listParked = [
    async (req, res) => {
      const name = await eworkerOf(req.params);
      const query = parseOrThrow(ListParkedQuerySchema, req.query, 'query');
      const body: ParkedEventList = {
        data: await deps.queries.parkedList(tenantOf(req), name, query.limit),
      };
      res.json(body);
    },
  ];
  routes.replayParked = [
    async (req, res) => {
      const name = await eworkerOf(req.params);
      const rows = await replayParked(
        deps.queries,
        deps.publisher,
        tenantOf(req),
        name,
        deps.confirmTimeoutMs,
      );
      const body: ReplayParkedResult = {
        replayed: rows.length,
        event_ids: rows.map((r) => r.eventId),
      };
      res.status(202).json(body);
    },
  ];
  return routes;
}
