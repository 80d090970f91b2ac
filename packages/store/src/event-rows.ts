/** A new event (or revision) to insert. `dataJson` is the JSON text of `data`. */
export interface NewEventRow {
  tenantId: string;
  eventId: string;
  revision: number;
  eventType: string;
  occurredAt: Date;
  dataJson: string;
  /** Absent: the event has no ordering key. */
  orderingKey?: string | undefined;
  /** W3C Trace Context to carry to consumers; absent when none. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** A stored revision as the API reads it. */
export interface StoredEvent {
  seq: string;
  tenantId: string;
  eventId: string;
  revision: number;
  eventType: string;
  occurredAt: Date;
  data: unknown;
  receivedAt: Date;
  publishedAt: Date | null;
  orderingKey: string | null;
  traceparent: string | null;
  tracestate: string | null;
}

/** An unpublished revision as the relay reads it: `dataJson` stays text, never reparsed. */
export interface OutboxRow {
  seq: string;
  tenantId: string;
  eventId: string;
  revision: number;
  eventType: string;
  occurredAt: Date;
  dataJson: string;
  receivedAt: Date;
  /** Its place in publish order (what stream resume goes by); set by the relay's read. */
  streamPosition?: string;
  /** Present only when the event has one: the message then carries it. */
  orderingKey?: string;
  traceparent?: string;
  tracestate?: string;
}

/**
 * Completes an Idempotency-Key record in the same transaction as the insert. `bodyJson` is kept
 * as text (a JSON string in jsonb) so a replay answers byte for byte what the first answer was.
 */
export interface IdempotencyCompletion {
  tenantId: string;
  key: string;
  status: number;
  bodyJson: string;
}

export interface EventListFilter {
  tenantId: string;
  typeExact?: string;
  typeLike?: string;
  since?: Date;
  until?: Date;
  beforeEventId?: string;
  limit: number;
}

/** An outbox row as PostgreSQL returns it (`data::text AS data`). */
export interface OutboxRecord {
  seq: string;
  tenant_id: string;
  event_id: string;
  revision: number;
  event_type: string;
  occurred_at: Date;
  data: string;
  received_at: Date;
  stream_position?: string | null;
  /** Absent from queries that do not select them (the event then publishes without them). */
  ordering_key?: string | null;
  traceparent?: string | null;
  tracestate?: string | null;
}

/** Maps a selected outbox record to the row the relay (and eworker replay) publishes. */
export function toOutboxRow(r: OutboxRecord): OutboxRow {
  return {
    seq: r.seq,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    revision: r.revision,
    eventType: r.event_type,
    occurredAt: r.occurred_at,
    dataJson: r.data,
    receivedAt: r.received_at,
    ...(r.stream_position ? { streamPosition: r.stream_position } : {}),
    ...(r.ordering_key ? { orderingKey: r.ordering_key } : {}),
    ...(r.traceparent ? { traceparent: r.traceparent } : {}),
    ...(r.tracestate ? { tracestate: r.tracestate } : {}),
  };
}
