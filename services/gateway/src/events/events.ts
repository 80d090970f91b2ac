import type { Response } from 'express';
import { z } from 'zod';
import {
  CreateEventRequestSchema,
  EventIdSchema,
  ListEventsQuerySchema,
  RetenError,
  UpdateEventRequestSchema,
  typeFilterToLike,
} from '@reten/contracts';
import type { EventDetail, EventEnvelope, EventList } from '@reten/contracts';
import { parseOrThrow, requireJsonBody } from '@reten/http';
import { traceIdOf } from '@reten/observability';
import type { EventStore, StoredEvent } from '@reten/store';
import type { Ingestor } from '../ingest/ingestor';
import { idempotencyKeyOf, requestFingerprint } from '../ingest/idempotency-key';
import { assertNoNulCharacter } from '../ingest/nul-character';
import { ingestTraceOf } from '../ingest/trace-context';
import { tenantOf } from '../tenant';
import { sendIngestResult, sendJsonText } from './send-ingest-result';
import { decodeCursor, pageOf } from '../page-cursor';
import type { EventStatusReaders } from './event-status';
import type { RouteHandlers } from '../api-route';

const isEventId = (id: string) => EventIdSchema.safeParse(id).success;

export const EventIdParamsSchema = z.object({ id: EventIdSchema });

function toEnvelope(e: StoredEvent): EventEnvelope {
  const head = {
    event_id: e.eventId,
    event_type: e.eventType,
    timestamp: e.occurredAt.toISOString(),
    revision: e.revision,
  };
  // the documented key order: ordering_key, when there is one, comes before data
  return e.orderingKey === null
    ? { ...head, data: e.data }
    : { ...head, ordering_key: e.orderingKey, data: e.data };
}

async function toDetail(
  tenantId: string,
  e: StoredEvent,
  status: EventStatusReaders,
): Promise<EventDetail> {
  const [eworkers, webhooks] = await Promise.all([
    status.eworkers(tenantId, e),
    status.webhooks(tenantId, e),
  ]);
  return {
    ...toEnvelope(e),
    ordering_key: e.orderingKey,
    traceparent: e.traceparent,
    tracestate: e.tracestate,
    trace_id: traceIdOf(e.traceparent) ?? null,
    received_at: e.receivedAt.toISOString(),
    published_at: e.publishedAt ? e.publishedAt.toISOString() : null,
    eworkers,
    webhooks,
  };
}

function notFound(id: string): RetenError {
  return new RetenError('not_found', `No event with id ${id}`);
}

function eventIdOrNotFound(params: unknown): string {
  const parsed = EventIdParamsSchema.safeParse(params);
  if (!parsed.success) throw notFound(String((params as { id?: unknown }).id));
  return parsed.data.id;
}

/** `If-Match: "3"` (or `W/"3"`, or `3`) → 3; `*` → no revision check. */
function parseIfMatch(header: string | undefined): number | undefined {
  // `*` matches any current revision (RFC 9110 §13.1.1): the event must exist, nothing more
  if (header === undefined || header.trim() === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m?.[1]) {
    throw new RetenError('validation_failed', 'Invalid If-Match header', [
      { path: 'headers.if-match', message: 'must be the revision as an entity tag, e.g. "3"' },
    ]);
  }
  return Number(m[1]);
}

/**
 * An event's detail, with its revision as the ETag: what `If-Match` on PUT compares.
 * The body also carries what the eworkers and endpoints did with that revision, which changes
 * under the same revision, so the ETag cannot validate it: no 304 for an `If-None-Match` that
 * names the revision (express's `res.json` would answer one, and a browser would show the
 * status it had cached: `sendJsonText` has no such check), and `no-store`, which also keeps
 * event data out of browser caches.
 */
function sendDetail(res: Response, status: number, e: StoredEvent, body: unknown): void {
  res.setHeader('ETag', `"${e.revision}"`);
  res.setHeader('Cache-Control', 'no-store');
  sendJsonText(res, status, JSON.stringify(body));
}

/** REST events API under `/api/v1/events`. */
export function eventsHandlers(
  ingestor: Ingestor,
  store: EventStore,
  status: EventStatusReaders,
): RouteHandlers {
  const routes: RouteHandlers = {};

  routes.createEvent = [
    requireJsonBody,
    async (req, res) => {
      const body = parseOrThrow(CreateEventRequestSchema, req.body, 'body');
      const key = idempotencyKeyOf(req);
      const result = await ingestor.accept({
        api: 'rest',
        tenantId: tenantOf(req),
        eventType: body.event_type,
        data: body.data,
        occurredAt: body.timestamp ? new Date(body.timestamp) : undefined,
        orderingKey: body.ordering_key,
        trace: ingestTraceOf(req),
        idempotency: key ? { key, fingerprint: requestFingerprint(req) } : undefined,
        render: (envelope) => envelope,
      });
      sendIngestResult(res, result);
    },
  ];

  routes.listEvents = [
    async (req, res) => {
      const query = parseOrThrow(ListEventsQuerySchema, req.query, 'query');
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isEventId);
      const wildcard = query.type?.includes('*') ?? false;
      const rows = await store.list({
        tenantId: tenantOf(req),
        ...(query.type && !wildcard ? { typeExact: query.type } : {}),
        ...(query.type && wildcard ? { typeLike: typeFilterToLike(query.type) } : {}),
        ...(query.since ? { since: new Date(query.since) } : {}),
        ...(query.until ? { until: new Date(query.until) } : {}),
        ...(before ? { beforeEventId: before } : {}),
        limit: query.limit + 1,
      });
      const { page, nextCursor } = pageOf(rows, query.limit, (row) => row.eventId);
      const body: EventList = { data: page.map(toEnvelope), next_cursor: nextCursor };
      res.json(body);
    },
  ];

  routes.getEvent = [
    async (req, res) => {
      const id = eventIdOrNotFound(req.params);
      const tenantId = tenantOf(req);
      const event = await store.getCurrent(tenantId, id);
      if (!event) throw notFound(id);
      sendDetail(res, 200, event, await toDetail(tenantId, event, status));
    },
  ];

  routes.updateEvent = [
    requireJsonBody,
    async (req, res) => {
      const id = eventIdOrNotFound(req.params);
      const body = parseOrThrow(UpdateEventRequestSchema, req.body, 'body');
      const expected = parseIfMatch(req.get('if-match'));
      const dataJson = JSON.stringify(body.data);
      assertNoNulCharacter(dataJson, 'body.data');
      const tenantId = tenantOf(req);
      // validate before storing; the type of an event never changes between revisions
      const current = await store.getCurrent(tenantId, id);
      if (!current) throw notFound(id);
      ingestor.validateData(current.eventType, body.data, 'body.data');
      const trace = ingestTraceOf(req);
      const result = await store.insertRevision(tenantId, id, expected, {
        dataJson,
        ...(body.timestamp ? { occurredAt: new Date(body.timestamp) } : {}),
        ...(body.ordering_key !== undefined ? { orderingKey: body.ordering_key } : {}),
        ...(trace ? { trace } : {}),
      });
      if (result === 'not_found') throw notFound(id);
      if ('immutableOrderingKey' in result) {
        const current = result.immutableOrderingKey;
        throw new RetenError(
          'ordering_key_immutable',
          current === null
            ? 'The event has no ordering key, and one cannot be added by an update'
            : `The event's ordering key is ${JSON.stringify(current)}; it cannot be changed`,
          [
            {
              path: 'body.ordering_key',
              message: 'must be the ordering key of the event, or left out',
            },
          ],
        );
      }
      if ('conflict' in result) {
        res.setHeader('ETag', `"${result.conflict}"`);
        throw new RetenError(
          'precondition_failed',
          `If-Match does not match: the current revision is ${result.conflict}`,
        );
      }
      sendDetail(res, 200, result, await toDetail(tenantId, result, status));
    },
  ];

  return routes;
}
