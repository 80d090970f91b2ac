import type { Pool } from 'pg';
import { deliveryIdOf } from '../ids';
import { pgArray } from '../pg-array';
import { INITIAL_TOKEN, qualified } from './webhook-rows';
import type { DeliveryRow, WebhookAttemptRecord, WebhookDeliveryRecord } from './webhook-rows';

/** The columns of a delivery row the delivery service acts on. */
export type DeliveryStateRecord = Pick<
  WebhookDeliveryRecord,
  | 'id'
  | 'tenant_id'
  | 'endpoint_id'
  | 'event_id'
  | 'revision'
  | 'event_type'
  | 'event_seq'
  | 'status'
  | 'attempts'
  | 'token'
>;

export const DELIVERY_COLUMNS =
  'id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, status, attempts, token';

export function toDeliveryRow(r: DeliveryStateRecord): DeliveryRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    revision: r.revision,
    eventType: r.event_type,
    eventSeq: r.event_seq,
    status: r.status,
    attempts: r.attempts,
    token: r.token,
  };
}

/** Where an attempt leaves its delivery. */
export interface AttemptOutcome {
  status: DeliveryRow['status'];
  token: string | null;
  nextAttemptAt: Date | null;
}

/** What is stored of one attempt (its HTTP exchange, or where it failed). */
export interface AttemptFacts {
  startedAt: Date;
  latencyMs: number;
  succeeded: boolean;
  statusCode: WebhookAttemptRecord['status_code'];
  phase: WebhookAttemptRecord['phase'];
  error: string | null;
  responseExcerpt: string | null;
}

export interface EnsureItem {
  tenantId: string;
  event: {
    eventId: string;
    revision: number;
    eventType: string;
    seq: string;
    /** The event's ordering key; absent or null when it has none. */
    orderingKey?: string | null | undefined;
    /** When the revision was accepted (epoch ms): the time part of its delivery ids. */
    acceptedAtMs?: number | undefined;
  };
  endpointIds: string[];
  /**
   * The ids of rows still to create, one per endpoint: by default `deliveryIdOf(...)` of the
   * endpoint, the event, its revision and `acceptedAtMs`.
   */
  ids?: string[] | undefined;
}

export interface RecordItem {
  row: DeliveryRow;
  expectedToken: string | null;
  result: AttemptFacts;
  outcome: AttemptOutcome;
}

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * The endpoints of a batch's items (`i`), as `k`: a statement inserts delivery rows only for
 * the endpoints it finds, so a batch after an endpoint's deletion stores nothing of it. They are
 * not locked: a statement that found an endpoint just before its deletion committed may store
 * rows of it after the deletion's own, and those are deleted by sweepEndpointTombstones once
 * the endpoint's tombstone is older than any statement can run (see
 * infra/postgres/migrations/1734100000000_endpoint_tombstones.sql). Locking them (FOR KEY
 * SHARE, as until then) wrote a row lock to the same endpoint rows in every batch.
 */
const LIVE_ENDPOINTS = `k AS MATERIALIZED (
         SELECT id FROM webhook_endpoints WHERE id IN (SELECT endpoint_id FROM i))`;

/**
 * The end of both record statements, given `i` (the items), `d` (the rows whose state the items
 * set: id, tenant_id, endpoint_id, attempts) and `a` (the attempts inserted): what the attempts
 * add to their endpoints' counts (a row of webhook_count_deltas), the endpoints' failure runs,
 * and per row of `d` since when its endpoint has been failing.
 */
const ATTEMPT_EFFECTS = `
       -- what the attempts add to the API's counts of their endpoints, per endpoint and minute:
       -- one row for the batch, added to the counts by compactCountDeltas (one upsert per
       -- endpoint and second instead of two per endpoint and batch)
       cd AS (
         INSERT INTO webhook_count_deltas (endpoint_ids, tenant_ids, minutes, attempts, succeeded,
                                           last_errors, last_error_ats)
         SELECT array_agg(endpoint_id), array_agg(tenant_id), array_agg(minute), array_agg(n),
                array_agg(ok), array_agg(last_error), array_agg(last_error_at)
           FROM (SELECT endpoint_id, tenant_id, date_trunc('minute', started_at) AS minute,
                        count(*)::int AS n, (count(*) FILTER (WHERE succeeded))::int AS ok,
                        (array_agg(error ORDER BY started_at DESC)
                           FILTER (WHERE NOT succeeded))[1] AS last_error,
                        max(started_at) FILTER (WHERE NOT succeeded) AS last_error_at
                   FROM a GROUP BY 1, 2, 3) g
         HAVING count(*) > 0),
       -- the latest attempt of each endpoint in this batch decides its failure run; the
       -- endpoint row is written only when the run starts or ends, so concurrent attempts to
       -- one endpoint do not queue on its row lock
       last AS (
         SELECT DISTINCT ON (d.endpoint_id) d.endpoint_id, i.succeeded, i.started_at
           FROM d JOIN i ON i.id = d.id ORDER BY d.endpoint_id, i.started_at DESC),
       u AS (
         UPDATE webhook_endpoints e
            SET failing_since = CASE WHEN last.succeeded THEN NULL ELSE last.started_at END
           FROM last
          WHERE e.id = last.endpoint_id
            AND (CASE WHEN last.succeeded THEN e.failing_since IS NOT NULL
                      ELSE e.failing_since IS NULL END)
         RETURNING e.id, e.failing_since)
       SELECT d.id,
              CASE WHEN i.succeeded THEN NULL
                   ELSE COALESCE(u.failing_since, e.failing_since) END AS failing_since
         FROM d JOIN i ON i.id = d.id
         JOIN webhook_endpoints e ON e.id = d.endpoint_id
         LEFT JOIN u ON u.id = d.endpoint_id`;

/** The attempt's columns of record items: start, status code, error, latency, success, phase, excerpt. */
function attemptColumns(items: RecordItem[]): string[] {
  return [
    pgArray(items.map((it) => it.result.startedAt.toISOString())),
    pgArray(items.map((it) => it.result.statusCode)),
    pgArray(
      items.map(
        (it) =>
          it.result.error ?? (it.result.succeeded ? null : `HTTP ${it.result.statusCode ?? '?'}`),
      ),
    ),
    pgArray(items.map((it) => Math.round(it.result.latencyMs))),
    pgArray(items.map((it) => it.result.succeeded)),
    pgArray(items.map((it) => it.result.phase)),
    pgArray(items.map((it) => it.result.responseExcerpt)),
  ];
}

/** Per record item: since when its endpoint has been failing, or undefined when it set no row. */
function failingSincePerItem(
  items: RecordItem[],
  rows: { id: string; failing_since: Date | null }[],
): ({ failingSince: Date | null } | undefined)[] {
  const byId = new Map(rows.map((r) => [r.id, r.failing_since]));
  return items.map((it) =>
    byId.has(it.row.id) ? { failingSince: byId.get(it.row.id) ?? null } : undefined,
  );
}

/** Rows of a statement over items, one list per item (its event revision, its endpoints). */
function rowsPerItem(items: EnsureItem[], records: DeliveryStateRecord[]): DeliveryRow[][] {
  // rows grouped by event revision once: a batch holds up to hundreds of items and rows
  const byEvent = new Map<string, DeliveryRow[]>();
  for (const record of records) {
    const r = toDeliveryRow(record);
    const key = `${r.tenantId} ${r.eventId} ${r.revision}`;
    const list = byEvent.get(key);
    if (list) list.push(r);
    else byEvent.set(key, [r]);
  }
  return items.map((it) => {
    const rows = byEvent.get(`${it.tenantId} ${it.event.eventId} ${it.event.revision}`) ?? [];
    return it.endpointIds.length === 1
      ? rows.filter((r) => r.endpointId === it.endpointIds[0])
      : rows.filter((r) => it.endpointIds.includes(r.endpointId));
  });
}

/*
 * The batch statements below read their array parameters through `unnest((SELECT $n::type[]), …)`:
 * the sub-select hides the arrays' lengths from the planner, so a plan for the given parameters
 * costs the same as the generic plan and PostgreSQL keeps the generic plan of a named statement
 * after its fifth execution. Given `unnest($n::type[])` a small batch looked cheaper than the
 * generic plan's estimate and the ensure statement was planned again on every execution (about
 * 300 µs of the server's CPU per statement, half its cost at batches of 6). The plan itself does
 * not change: the arrays meet the tables in a join either way.
 */
/**
 * The delivery service's writes to `webhook_deliveries` and `webhook_attempts`: each statement
 * names the tenant or a delivery row id (ids are unique across tenants).
 */
export class DeliveryAttemptRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * The delivery rows of event revisions to endpoints, created when missing (idempotent: a
   * redelivered message finds the rows it created before); one list per item, in order. An
   * endpoint deleted meanwhile gets no row.
   */
  async ensureMany(items: EnsureItem[]): Promise<DeliveryRow[][]> {
    // one pass over the items into the statement's columns (no object per row)
    const ids: string[] = [];
    const tenants: string[] = [];
    const revisions: number[] = [];
    const eventIds: string[] = [];
    const seqs: string[] = [];
    const types: string[] = [];
    const endpoints: string[] = [];
    const keys: (string | null)[] = [];
    for (const it of items) {
      for (let k = 0; k < it.endpointIds.length; k++) {
        const endpointId = it.endpointIds[k] as string;
        ids.push(
          it.ids?.[k] ??
            deliveryIdOf(endpointId, it.event.eventId, it.event.revision, it.event.acceptedAtMs),
        );
        tenants.push(it.tenantId);
        revisions.push(it.event.revision);
        eventIds.push(it.event.eventId);
        seqs.push(it.event.seq);
        types.push(it.event.eventType);
        endpoints.push(endpointId);
        keys.push(it.event.orderingKey ?? null);
      }
    }
    const res = await this.pool.query<DeliveryStateRecord>(
      `WITH i AS (
         SELECT * FROM unnest((SELECT $1::text[]), (SELECT $2::text[]), (SELECT $3::int[]),
                              (SELECT $4::text[]), (SELECT $5::bigint[]), (SELECT $6::text[]),
                              (SELECT $7::text[]), (SELECT $9::text[]))
           AS i(id, tenant_id, revision, event_id, event_seq, event_type, endpoint_id,
                ordering_key)),
       ${LIVE_ENDPOINTS},
       ins AS (
         INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type,
                                         event_seq, token, ordering_key)
         SELECT id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, $8,
                ordering_key
           FROM i WHERE endpoint_id IN (SELECT id FROM k)
         ON CONFLICT (endpoint_id, event_id, revision) DO NOTHING
         RETURNING ${DELIVERY_COLUMNS})
       SELECT ${DELIVERY_COLUMNS} FROM ins
       UNION ALL
       SELECT ${qualified(DELIVERY_COLUMNS, 'd')}
         FROM webhook_deliveries d
         JOIN i ON d.tenant_id = i.tenant_id AND d.endpoint_id = i.endpoint_id
               AND d.event_id = i.event_id AND d.revision = i.revision`,
      [
        pgArray(ids),
        pgArray(tenants),
        pgArray(revisions),
        pgArray(eventIds),
        pgArray(seqs),
        pgArray(types),
        pgArray(endpoints),
        INITIAL_TOKEN,
        pgArray(keys),
      ],
    );
    return rowsPerItem(items, res.rows);
  }

  /**
   * The delivery rows stored already of event revisions to endpoints, one list per item, in
   * order (a read: a first attempt finds none, and goes out before its row is stored).
   */
  async existingMany(items: EnsureItem[]): Promise<DeliveryRow[][]> {
    const tenants: string[] = [];
    const endpoints: string[] = [];
    const eventIds: string[] = [];
    const revisions: number[] = [];
    for (const it of items) {
      for (const endpointId of it.endpointIds) {
        tenants.push(it.tenantId);
        endpoints.push(endpointId);
        eventIds.push(it.event.eventId);
        revisions.push(it.event.revision);
      }
    }
    const res = await this.pool.query<DeliveryStateRecord>(
      `SELECT ${qualified(DELIVERY_COLUMNS, 'd')}
         FROM webhook_deliveries d
         JOIN unnest((SELECT $1::text[]), (SELECT $2::text[]), (SELECT $3::text[]),
                     (SELECT $4::int[])) AS i(tenant_id, endpoint_id, event_id, revision)
           ON d.tenant_id = i.tenant_id AND d.endpoint_id = i.endpoint_id
          AND d.event_id = i.event_id AND d.revision = i.revision`,
      [pgArray(tenants), pgArray(endpoints), pgArray(eventIds), pgArray(revisions)],
    );
    return rowsPerItem(items, res.rows);
  }

  /** One delivery row by id. */
  async delivery(id: string): Promise<DeliveryRow | undefined> {
    const res = await this.pool.query<DeliveryStateRecord>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1`,
      [id],
    );
    const row = res.rows[0];
    return row ? toDeliveryRow(row) : undefined;
  }

  /**
   * Stores attempts and their outcomes, and keeps each endpoint's failure run: per item, since
   * when its endpoint has been failing (null after a success), or undefined when the row no
   * longer holds `expectedToken` (taken over by a newer message: only the attempt is stored).
   * Safe to repeat after a lost answer.
   */
  async recordMany(items: RecordItem[]): Promise<({ failingSince: Date | null } | undefined)[]> {
    const res = await this.pool.query<{ id: string; failing_since: Date | null }>(
      `WITH i AS (
         SELECT * FROM unnest((SELECT $1::text[]), (SELECT $2::text[]), (SELECT $3::text[]),
                              (SELECT $4::text[]), (SELECT $5::timestamptz[]),
                              (SELECT $6::timestamptz[]), (SELECT $7::int[]), (SELECT $8::text[]),
                              (SELECT $9::int[]), (SELECT $10::boolean[]), (SELECT $11::text[]),
                              (SELECT $12::text[]))
           AS i(id, expected_token, status, token, next_at, started_at, status_code, error,
                latency_ms, succeeded, phase, excerpt)),
       d AS (
         UPDATE webhook_deliveries w SET attempts = w.attempts + 1, status = i.status,
                token = i.token, next_attempt_at = i.next_at, last_attempt_at = i.started_at,
                last_status_code = i.status_code, last_error = i.error
           FROM i WHERE w.id = i.id AND w.token IS NOT DISTINCT FROM i.expected_token
          RETURNING w.id, w.tenant_id, w.endpoint_id, w.attempts),
       -- a request whose message was superseded meanwhile (a manual retry, another copy of the
       -- message) left the process all the same: it is counted and kept in the history, and the
       -- row's state is left to the newer message. An attempt stored already (the answer to an
       -- earlier try of this statement was lost) is recognised by its start time.
       -- (materialized first: usually empty, so the attempts are not searched at all; joined
       -- to all of i, the planner hashed every attempt of the table for each batch)
       o AS MATERIALIZED (SELECT * FROM i WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.id = i.id)),
       s AS (
         UPDATE webhook_deliveries w SET attempts = w.attempts + 1
           FROM o WHERE w.id = o.id
            AND NOT EXISTS (SELECT 1 FROM webhook_attempts x
                             WHERE x.delivery_id = o.id AND x.started_at = o.started_at)
          RETURNING w.id, w.tenant_id, w.endpoint_id, w.attempts),
       a AS (
         INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, attempt, started_at,
                latency_ms, succeeded, status_code, phase, error, response_excerpt)
         SELECT ds.tenant_id, ds.id, ds.endpoint_id, ds.attempts, i.started_at, i.latency_ms,
                i.succeeded, i.status_code, i.phase, i.error, i.excerpt
           FROM (SELECT * FROM d UNION ALL SELECT * FROM s) ds JOIN i ON i.id = ds.id
         RETURNING tenant_id, endpoint_id, started_at, succeeded, error),
${ATTEMPT_EFFECTS}`,
      [
        pgArray(items.map((it) => it.row.id)),
        pgArray(items.map((it) => it.expectedToken)),
        pgArray(items.map((it) => it.outcome.status)),
        pgArray(items.map((it) => it.outcome.token)),
        pgArray(items.map((it) => it.outcome.nextAttemptAt?.toISOString() ?? null)),
        ...attemptColumns(items),
      ],
    );
    return failingSincePerItem(items, res.rows);
  }

  /**
   * Stores first attempts of deliveries that have no row yet (`row.unsaved`): one statement
   * inserts each row in the state its attempt left it, with the attempt. Per item as recordMany,
   * except undefined: its row exists already (made meanwhile by another copy of the message, or
   * by ensureMany while the request was slow), or its endpoint was deleted; nothing of the item
   * is stored, and the caller stores it with recordMany on the row ensureMany finds, if any.
   * A batch whose rows are all `fresh` is inserted without ON CONFLICT first.
   */
  async recordFirstMany(
    items: RecordItem[],
  ): Promise<({ failingSince: Date | null } | undefined)[]> {
    if (items.every((it) => it.row.fresh === true)) {
      try {
        return await this.insertFirst(items, false);
      } catch (err) {
        // a row exists after all (a replay made it, an earlier try of this call committed
        // but its answer was lost): nothing of the statement was stored; run it with the check
        if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      }
    }
    return this.insertFirst(items, true);
  }

  /**
   * recordFirstMany's statement; without `onConflict`, a row that exists already fails it
   * (23505): a unique index checked before each insert costs PostgreSQL ~7 µs per row here.
   */
  private async insertFirst(
    items: RecordItem[],
    onConflict: boolean,
  ): Promise<({ failingSince: Date | null } | undefined)[]> {
    const res = await this.pool.query<{ id: string; failing_since: Date | null }>(
      `WITH i AS (
         SELECT * FROM unnest((SELECT $1::text[]), (SELECT $2::text[]), (SELECT $3::text[]),
                              (SELECT $4::text[]), (SELECT $5::int[]), (SELECT $6::text[]),
                              (SELECT $7::bigint[]), (SELECT $8::text[]), (SELECT $9::text[]),
                              (SELECT $10::timestamptz[]), (SELECT $11::timestamptz[]),
                              (SELECT $12::int[]), (SELECT $13::text[]), (SELECT $14::int[]),
                              (SELECT $15::boolean[]), (SELECT $16::text[]), (SELECT $17::text[]))
           AS i(id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, status,
                token, next_at, started_at, status_code, error, latency_ms, succeeded, phase,
                excerpt)),
       ${LIVE_ENDPOINTS},
       d AS (
         INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type,
                event_seq, status, attempts, token, next_attempt_at, last_attempt_at,
                last_status_code, last_error)
         SELECT id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, status, 1,
                token, next_at, started_at, status_code, error
           FROM i WHERE endpoint_id IN (SELECT id FROM k)
         ${onConflict ? 'ON CONFLICT DO NOTHING' : ''}
         RETURNING id, tenant_id, endpoint_id, attempts),
       a AS (
         INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, attempt, started_at,
                latency_ms, succeeded, status_code, phase, error, response_excerpt)
         SELECT d.tenant_id, d.id, d.endpoint_id, d.attempts, i.started_at, i.latency_ms,
                i.succeeded, i.status_code, i.phase, i.error, i.excerpt
           FROM d JOIN i ON i.id = d.id
         RETURNING tenant_id, endpoint_id, started_at, succeeded, error),
${ATTEMPT_EFFECTS}`,
      [
        pgArray(items.map((it) => it.row.id)),
        pgArray(items.map((it) => it.row.tenantId)),
        pgArray(items.map((it) => it.row.endpointId)),
        pgArray(items.map((it) => it.row.eventId)),
        pgArray(items.map((it) => it.row.revision)),
        pgArray(items.map((it) => it.row.eventType)),
        pgArray(items.map((it) => it.row.eventSeq)),
        pgArray(items.map((it) => it.outcome.status)),
        pgArray(items.map((it) => it.outcome.token)),
        pgArray(items.map((it) => it.outcome.nextAttemptAt?.toISOString() ?? null)),
        ...attemptColumns(items),
      ],
    );
    return failingSincePerItem(items, res.rows);
  }

  /** Moves a row to a new token without an attempt (deferred by backlog or rate limit). */
  async reschedule(
    row: DeliveryRow,
    expectedToken: string | null,
    token: string,
    nextAttemptAt: Date,
  ): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE webhook_deliveries SET token = $3, next_attempt_at = $4
        WHERE id = $1 AND token IS NOT DISTINCT FROM $2`,
      [row.id, expectedToken, token, nextAttemptAt.toISOString()],
    );
    return (res.rowCount ?? 0) > 0;
  }

  /** Ends a delivery without an attempt (its endpoint is disabled). */
  async markFailed(row: DeliveryRow, expectedToken: string | null, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET status = 'failed', token = NULL, next_attempt_at = NULL,
              last_error = $3
        WHERE id = $1 AND token IS NOT DISTINCT FROM $2`,
      [row.id, expectedToken, reason],
    );
  }
}
