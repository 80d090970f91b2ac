import type { Pool } from 'pg';
import { ENDPOINT_DISABLED_EVENT_TYPE } from '@reten/contracts';
import { newEventId, newPrefixedId, outboxChannel } from '@reten/store';
import type { AttemptResult } from './retry-policy';
import type { DeliveryRow, Endpoint } from './endpoint';
import { INITIAL_TOKEN } from './endpoint';

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

/** The delivery service's reads and writes; every statement names the tenant or a row id. */
export class DeliveryStore {
  private readonly outbox: string;

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
   * (idempotent: a redelivered message finds the rows it created before).
   */
  async ensureDeliveries(
    tenantId: string,
    event: { eventId: string; revision: number; eventType: string; seq: string },
    endpointIds: string[],
  ): Promise<DeliveryRow[]> {
    const res = await this.pool.query<DeliveryRecord>(
      `WITH ins AS (
         INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type,
                                         event_seq, token)
         SELECT ids.id, $1, ids.endpoint_id, $2, $3, $4, $5, $6
           FROM unnest($7::text[], $8::text[]) AS ids(id, endpoint_id)
         ON CONFLICT (endpoint_id, event_id, revision) DO NOTHING
         RETURNING ${DELIVERY_COLUMNS})
       SELECT ${DELIVERY_COLUMNS} FROM ins
       UNION ALL
       SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
        WHERE tenant_id = $1 AND event_id = $2 AND revision = $3
          AND endpoint_id = ANY($8::text[]) AND endpoint_id NOT IN (SELECT endpoint_id FROM ins)`,
      [
        tenantId,
        event.eventId,
        event.revision,
        event.eventType,
        event.seq,
        INITIAL_TOKEN,
        endpointIds.map(() => newPrefixedId('dlv')),
        endpointIds,
      ],
    );
    return res.rows.map(toDelivery);
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
   * Stores an attempt and its outcome, only if the row still holds `expectedToken`, and keeps
   * the endpoint's failure run: returns since when it has been failing (null after a success),
   * or undefined when the row was taken over by a newer message.
   */
  async recordAttempt(
    row: DeliveryRow,
    expectedToken: string | null,
    result: AttemptResult,
    outcome: AttemptOutcome,
  ): Promise<{ failingSince: Date | null } | undefined> {
    const res = await this.pool.query<{ failing_since: Date | null }>(
      `WITH d AS (
         UPDATE webhook_deliveries SET attempts = attempts + 1, status = $3, token = $4,
                next_attempt_at = $5, last_attempt_at = $6, last_status_code = $7, last_error = $8
          WHERE id = $1 AND token IS NOT DISTINCT FROM $2
          RETURNING id, tenant_id, endpoint_id, attempts),
       a AS (
         INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, attempt, started_at,
                latency_ms, succeeded, status_code, phase, error, response_excerpt)
         SELECT tenant_id, id, endpoint_id, attempts, $6, $9, $10, $7, $11, $8, $12 FROM d),
       -- the endpoint row is written only when its failure run starts or ends, so concurrent
       -- attempts to one endpoint do not queue on its row lock
       u AS (
         UPDATE webhook_endpoints e SET failing_since = CASE WHEN $10 THEN NULL ELSE $6 END
           FROM d WHERE e.id = d.endpoint_id
            AND (CASE WHEN $10 THEN e.failing_since IS NOT NULL ELSE e.failing_since IS NULL END)
         RETURNING e.failing_since)
       SELECT CASE WHEN $10 THEN NULL
                   ELSE COALESCE((SELECT failing_since FROM u LIMIT 1), e.failing_since) END
                AS failing_since
         FROM d JOIN webhook_endpoints e ON e.id = d.endpoint_id`,
      [
        row.id,
        expectedToken,
        outcome.status,
        outcome.token,
        outcome.nextAttemptAt?.toISOString() ?? null,
        result.startedAt.toISOString(),
        result.statusCode,
        result.error ?? (result.succeeded ? null : `HTTP ${result.statusCode ?? '?'}`),
        Math.round(result.latencyMs),
        result.succeeded,
        result.phase,
        result.responseExcerpt,
      ],
    );
    const r = res.rows[0];
    return r ? { failingSince: r.failing_since } : undefined;
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
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
