import type { Pool } from 'pg';
import { ENDPOINT_DISABLED_EVENT_TYPE } from '@reten/contracts';
import { newEventId, newPrefixedId, outboxChannel } from '@reten/store';
import type { AttemptResult } from './retry-policy';
import type { DeliveryRow, Endpoint } from './endpoint';
import { INITIAL_TOKEN } from './endpoint';
import { MicroBatch } from './micro-batch';

interface EndpointRecord {
  id: string;
  tenant_id: string;
  url: string;
  event_types: string[];
  enabled: boolean;
  rate_limit_per_second: number;
  headers: Record<string, string>;
  retry_schedule_seconds: number[] | null;
  signing: 'hmac' | 'ed25519';
  secret: string | null;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  private_key: string | null;
}

interface DeliveryRecord {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  revision: number;
  event_type: string;
  event_seq: string;
  status: DeliveryRow['status'];
  attempts: number;
  token: string | null;
}

const DELIVERY_COLUMNS =
  'id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, status, attempts, token';

function toEndpoint(r: EndpointRecord): Endpoint {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    eventTypes: r.event_types,
    enabled: r.enabled,
    rateLimitPerSecond: r.rate_limit_per_second,
    headers: r.headers,
    retryScheduleSeconds: r.retry_schedule_seconds,
    signing: r.signing,
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretExpiresAt: r.previous_secret_expires_at,
    privateKey: r.private_key,
  };
}

function toDelivery(r: DeliveryRecord): DeliveryRow {
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

/** A delivery queued for dispatch (manual retry or replay), with the envelope to send. */
export interface DispatchItem {
  row: DeliveryRow;
  dataJson: string;
  occurredAt: Date;
}

interface EnsureItem {
  tenantId: string;
  event: { eventId: string; revision: number; eventType: string; seq: string };
  endpointIds: string[];
}

interface RecordItem {
  row: DeliveryRow;
  expectedToken: string | null;
  result: AttemptResult;
  outcome: AttemptOutcome;
}

const BATCH_MAX = 200;

/** The delivery service's reads and writes; every statement names the tenant or a row id. */
export class DeliveryStore {
  private readonly outbox: string;
  private readonly ensureBatch = new MicroBatch<EnsureItem, DeliveryRow[]>(
    (items) => this.ensureMany(items),
    BATCH_MAX,
  );
  private readonly recordBatch = new MicroBatch<
    RecordItem,
    { failingSince: Date | null } | undefined
  >((items) => this.recordMany(items), BATCH_MAX);

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.outbox = outboxChannel(schema);
  }

  /** Every endpoint of a tenant, enabled or not. */
  async endpointsOf(tenantId: string): Promise<Endpoint[]> {
    const res = await this.pool.query<EndpointRecord>(
      `SELECT id, tenant_id, url, event_types, enabled, rate_limit_per_second, headers,
              retry_schedule_seconds, signing, secret, previous_secret, previous_secret_expires_at,
              private_key
         FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    );
    return res.rows.map(toEndpoint);
  }

  /**
   * The delivery rows of one event revision to these endpoints, created when missing
   * (idempotent: a redelivered message finds the rows it created before). Concurrent calls
   * share one statement.
   */
  ensureDeliveries(
    tenantId: string,
    event: { eventId: string; revision: number; eventType: string; seq: string },
    endpointIds: string[],
  ): Promise<DeliveryRow[]> {
    return this.ensureBatch.call({ tenantId, event, endpointIds });
  }

  private async ensureMany(items: EnsureItem[]): Promise<DeliveryRow[][]> {
    const flat = items.flatMap((it) =>
      it.endpointIds.map((endpointId) => ({ ...it.event, tenantId: it.tenantId, endpointId })),
    );
    const res = await this.pool.query<DeliveryRecord>(
      `WITH i AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[],
                              $6::text[], $7::text[])
           AS i(id, tenant_id, revision, event_id, event_seq, event_type, endpoint_id)),
       ins AS (
         INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type,
                                         event_seq, token)
         SELECT id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, $8 FROM i
         ON CONFLICT (endpoint_id, event_id, revision) DO NOTHING
         RETURNING ${DELIVERY_COLUMNS})
       SELECT ${DELIVERY_COLUMNS} FROM ins
       UNION ALL
       SELECT ${DELIVERY_COLUMNS.split(', ')
         .map((c) => `d.${c}`)
         .join(', ')}
         FROM webhook_deliveries d
         JOIN i ON d.tenant_id = i.tenant_id AND d.endpoint_id = i.endpoint_id
               AND d.event_id = i.event_id AND d.revision = i.revision`,
      [
        flat.map(() => newPrefixedId('dlv')),
        flat.map((f) => f.tenantId),
        flat.map((f) => f.revision),
        flat.map((f) => f.eventId),
        flat.map((f) => f.seq),
        flat.map((f) => f.eventType),
        flat.map((f) => f.endpointId),
        INITIAL_TOKEN,
      ],
    );
    const rows = res.rows.map(toDelivery);
    return items.map((it) =>
      rows.filter(
        (r) =>
          r.tenantId === it.tenantId &&
          r.eventId === it.event.eventId &&
          r.revision === it.event.revision &&
          it.endpointIds.includes(r.endpointId),
      ),
    );
  }

  async delivery(id: string): Promise<DeliveryRow | undefined> {
    const res = await this.pool.query<DeliveryRecord>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1`,
      [id],
    );
    const row = res.rows[0];
    return row ? toDelivery(row) : undefined;
  }

  /**
   * Stores an attempt and its outcome, and keeps the endpoint's failure run: returns since when
   * it has been failing (null after a success). When the row no longer holds `expectedToken`
   * (taken over by a newer message) only the attempt is stored, and the result is undefined.
   * Safe to repeat after a lost answer. Concurrent calls share one statement.
   */
  recordAttempt(
    row: DeliveryRow,
    expectedToken: string | null,
    result: AttemptResult,
    outcome: AttemptOutcome,
  ): Promise<{ failingSince: Date | null } | undefined> {
    return this.recordBatch.call({ row, expectedToken, result, outcome });
  }

  private async recordMany(
    items: RecordItem[],
  ): Promise<({ failingSince: Date | null } | undefined)[]> {
    const res = await this.pool.query<{ id: string; failing_since: Date | null }>(
      `WITH i AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                              $6::timestamptz[], $7::int[], $8::text[], $9::int[], $10::boolean[],
                              $11::text[], $12::text[])
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
       s AS (
         UPDATE webhook_deliveries w SET attempts = w.attempts + 1
           FROM i WHERE w.id = i.id
            AND NOT EXISTS (SELECT 1 FROM d WHERE d.id = i.id)
            AND NOT EXISTS (SELECT 1 FROM webhook_attempts x
                             WHERE x.delivery_id = i.id AND x.started_at = i.started_at)
          RETURNING w.id, w.tenant_id, w.endpoint_id, w.attempts),
       a AS (
         INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, attempt, started_at,
                latency_ms, succeeded, status_code, phase, error, response_excerpt)
         SELECT ds.tenant_id, ds.id, ds.endpoint_id, ds.attempts, i.started_at, i.latency_ms,
                i.succeeded, i.status_code, i.phase, i.error, i.excerpt
           FROM (SELECT * FROM d UNION ALL SELECT * FROM s) ds JOIN i ON i.id = ds.id),
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
         LEFT JOIN u ON u.id = d.endpoint_id`,
      [
        items.map((it) => it.row.id),
        items.map((it) => it.expectedToken),
        items.map((it) => it.outcome.status),
        items.map((it) => it.outcome.token),
        items.map((it) => it.outcome.nextAttemptAt?.toISOString() ?? null),
        items.map((it) => it.result.startedAt.toISOString()),
        items.map((it) => it.result.statusCode),
        items.map(
          (it) =>
            it.result.error ?? (it.result.succeeded ? null : `HTTP ${it.result.statusCode ?? '?'}`),
        ),
        items.map((it) => Math.round(it.result.latencyMs)),
        items.map((it) => it.result.succeeded),
        items.map((it) => it.result.phase),
        items.map((it) => it.result.responseExcerpt),
      ],
    );
    const byId = new Map(res.rows.map((r) => [r.id, r.failing_since]));
    return items.map((it) =>
      byId.has(it.row.id) ? { failingSince: byId.get(it.row.id) ?? null } : undefined,
    );
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

  /**
   * Disables an endpoint with a reason and, in the same statement, inserts the
   * `reten.endpoint.disabled` event into the log (the relay publishes it like any event).
   * Returns true when this call disabled it (the event exists once).
   */
  async disableEndpoint(endpointId: string, reason: string): Promise<boolean> {
    const res = await this.pool.query(
      `WITH e AS (
         UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now()
          WHERE id = $1 AND enabled RETURNING tenant_id, id, url)
       INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
       SELECT tenant_id, $3, 1, $4, now(),
              jsonb_build_object('webhook_id', id, 'url', url, 'reason', $2::text)
         FROM e`,
      [endpointId, reason, newEventId(), ENDPOINT_DISABLED_EVENT_TYPE],
    );
    if ((res.rowCount ?? 0) === 0) return false;
    await this.pool.query('SELECT pg_notify($1, $2)', [this.outbox, '']);
    return true;
  }

  /**
   * Takes up to `limit` deliveries queued by the API (manual retry, replay) in event order and
   * hands them to `publish` inside the transaction that clears their request: if publishing
   * fails, they stay queued.
   */
  async dispatch(
    limit: number,
    publish: (items: DispatchItem[]) => Promise<void>,
  ): Promise<number> {
    const client = await this.pool.connect();
    // a connection that dies between two statements must not be an unhandled 'error' event
    const onError = (err: Error) => void err;
    client.on('error', onError);
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const res = await client.query<DeliveryRecord & { data: string; occurred_at: Date }>(
        `SELECT ${DELIVERY_COLUMNS.split(', ')
          .map((c) => `d.${c}`)
          .join(', ')}, ev.data::text AS data, ev.occurred_at
           FROM webhook_deliveries d
           JOIN events ev ON ev.tenant_id = d.tenant_id AND ev.event_id = d.event_id
                         AND ev.revision = d.revision
          WHERE d.dispatch_requested_at IS NOT NULL
          ORDER BY d.event_seq, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED`,
        [limit],
      );
      if (res.rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      await publish(
        res.rows.map((r) => ({ row: toDelivery(r), dataJson: r.data, occurredAt: r.occurred_at })),
      );
      await client.query(
        'UPDATE webhook_deliveries SET dispatch_requested_at = NULL WHERE id = ANY($1::text[])',
        [res.rows.map((r) => r.id)],
      );
      await client.query('COMMIT');
      return res.rows.length;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      // after a failure the connection may be dead or stalled: the pool discards it
      client.release(failure);
    }
  }
}
