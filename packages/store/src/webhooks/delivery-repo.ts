import type { Pool } from 'pg';
import { deliveryIdOf } from '../ids';
import { dispatchChannel } from '../notify-channels';
import { pendingDeltas } from './count-deltas';
import { qualified } from './webhook-rows';
import type { WebhookAttemptRecord, WebhookDeliveryRecord } from './webhook-rows';
import type {
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookStats,
} from '@reten/contracts';
import { WEBHOOK_TEST_EVENT_TYPE } from '@reten/contracts';

type Status = WebhookDelivery['status'];

/** Attempts the latency percentiles of an endpoint's stats are taken over: the latest ones. */
export const LATENCY_WINDOW = 1000;

/** The columns the API shows of a delivery. */
type DeliveryRecord = Pick<
  WebhookDeliveryRecord,
  | 'id'
  | 'endpoint_id'
  | 'event_id'
  | 'event_type'
  | 'revision'
  | 'status'
  | 'attempts'
  | 'last_status_code'
  | 'last_error'
  | 'last_attempt_at'
  | 'next_attempt_at'
  | 'created_at'
>;

/** The columns the API shows of an attempt. */
type AttemptRecord = Pick<
  WebhookAttemptRecord,
  | 'delivery_id'
  | 'attempt'
  | 'started_at'
  | 'latency_ms'
  | 'succeeded'
  | 'status_code'
  | 'phase'
  | 'error'
  | 'response_excerpt'
>;

const COLUMNS =
  'id, endpoint_id, event_id, event_type, revision, status, attempts, last_status_code, last_error, last_attempt_at, next_attempt_at, created_at';

/** Most deliveries one replay call queues (the rest: call again with a later `since`). */
export const MAX_REPLAY = 10_000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Where a delivery stands, as both the delivery list and an event's status show it. */
function progressOf(r: DeliveryRecord) {
  return {
    revision: r.revision,
    status: r.status,
    attempts: r.attempts,
    last_status_code: r.last_status_code,
    last_error: r.last_error,
    last_attempt_at: iso(r.last_attempt_at),
    next_attempt_at: iso(r.next_attempt_at),
  };
}

/** Deliveries and attempts as the API reads and requeues them; every query names the tenant. */
export class WebhookDeliveryRepo {
  private readonly channel: string;

  /**
   * `newId`: the id of a delivery row a replay creates; by default the one the delivery service
   * gives it (`deliveryIdOf`), so a replay and a first attempt in flight send one `webhook-id`.
   */
  constructor(
    private readonly pool: Pool,
    schema: string,
    private readonly newId: (
      endpointId: string,
      eventId: string,
      revision: number,
      acceptedAtMs: number,
    ) => string = deliveryIdOf,
  ) {
    this.channel = dispatchChannel(schema);
  }

  private async withAttempts(rows: DeliveryRecord[]): Promise<WebhookDelivery[]> {
    const attempts = await this.pool.query<AttemptRecord>(
      `SELECT delivery_id, attempt, started_at, latency_ms, succeeded, status_code, phase, error, response_excerpt
         FROM webhook_attempts WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id, attempt, id`,
      [rows.map((r) => r.id)],
    );
    const byDelivery = new Map<string, WebhookAttempt[]>();
    for (const a of attempts.rows) {
      const list = byDelivery.get(a.delivery_id) ?? [];
      list.push({
        attempt: a.attempt,
        started_at: a.started_at.toISOString(),
        latency_ms: a.latency_ms,
        succeeded: a.succeeded,
        status_code: a.status_code,
        phase: a.phase,
        error: a.error,
        response_excerpt: a.response_excerpt,
      });
      byDelivery.set(a.delivery_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      webhook_id: r.endpoint_id,
      event_id: r.event_id,
      event_type: r.event_type,
      ...progressOf(r),
      created_at: r.created_at.toISOString(),
      attempt_log: byDelivery.get(r.id) ?? [],
    }));
  }

  /** An endpoint's deliveries, newest first, with every attempt. */
  async list(
    tenantId: string,
    endpointId: string,
    filter: { status?: Status | undefined; beforeId?: string | undefined; limit: number },
  ): Promise<WebhookDelivery[]> {
    const res = await this.pool.query<DeliveryRecord>(
      `SELECT ${COLUMNS} FROM webhook_deliveries
        WHERE tenant_id = $1 AND endpoint_id = $2
          AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR id < $4)
        ORDER BY id DESC LIMIT $5`,
      [tenantId, endpointId, filter.status ?? null, filter.beforeId ?? null, filter.limit],
    );
    return this.withAttempts(res.rows);
  }

  async get(tenantId: string, id: string): Promise<WebhookDelivery | undefined> {
    // (a row whose endpoint is gone waits for its tombstone's sweep: see LIVE_ENDPOINTS)
    const res = await this.pool.query<DeliveryRecord>(
      `SELECT ${COLUMNS} FROM webhook_deliveries d
        WHERE tenant_id = $1 AND id = $2
          AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id)`,
      [tenantId, id],
    );
    return (await this.withAttempts(res.rows))[0];
  }

  /**
   * Queues one more attempt of a delivery (whatever its state): a fresh token makes every
   * message already queued for it stale, the dispatcher publishes the new one.
   * Returns 'disabled' when its endpoint is disabled.
   */
  async requestRetry(
    tenantId: string,
    id: string,
  ): Promise<WebhookDelivery | 'disabled' | undefined> {
    const res = await this.pool.query<DeliveryRecord & { enabled: boolean }>(
      `UPDATE webhook_deliveries d SET status = 'pending', token = gen_random_uuid()::text,
              dispatch_requested_at = now(), next_attempt_at = now()
         FROM webhook_endpoints e
        WHERE d.tenant_id = $1 AND d.id = $2 AND e.id = d.endpoint_id AND e.enabled
        RETURNING ${qualified(COLUMNS, 'd')}`,
      [tenantId, id],
    );
    if (res.rows.length === 0) {
      return (await this.get(tenantId, id)) ? 'disabled' : undefined;
    }
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, '']);
    return (await this.withAttempts(res.rows))[0];
  }

  /**
   * Queues the endpoint's deliveries of events with timestamp ≥ since (current revisions),
   * creating the missing ones unless `failedOnly`; the dispatcher sends them in event order.
   */
  async replay(
    tenantId: string,
    endpoint: { id: string; eventTypes: string[] },
    since: Date,
    failedOnly: boolean,
  ): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // the lock a foreign key check takes: an endpoint deleted meanwhile gets no rows, and
      // deleting it waits for this transaction (a rare call: the delivery service's batches
      // take no such lock, see LIVE_ENDPOINTS in delivery-attempts.ts)
      const locked = await client.query(
        'SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE',
        [tenantId, endpoint.id],
      );
      if (locked.rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      let created = 0;
      if (!failedOnly) {
        const likes = endpoint.eventTypes.map((f) =>
          f.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%'),
        );
        const missing = await client.query<{
          event_id: string;
          revision: number;
          event_type: string;
          seq: string;
          ordering_key: string | null;
          received_at: Date;
        }>(
          `SELECT ev.event_id, ev.revision, ev.event_type, ev.seq, ev.ordering_key, ev.received_at
             FROM events ev
            WHERE ev.tenant_id = $1 AND ev.is_current AND ev.occurred_at >= $2
              AND ev.event_type <> $5
              AND ev.stream_position <= reten_published_through()
              AND (cardinality($3::text[]) = 0 OR ev.event_type LIKE ANY($3::text[]))
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = $4
                              AND d.event_id = ev.event_id AND d.revision = ev.revision)
            ORDER BY ev.seq LIMIT ${MAX_REPLAY}`,
          [tenantId, since.toISOString(), likes, endpoint.id, WEBHOOK_TEST_EVENT_TYPE],
        );
        if (missing.rows.length > 0) {
          const inserted = await client.query(
            `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type,
                event_seq, token, dispatch_requested_at, next_attempt_at, ordering_key)
             SELECT m.id, $1, $2, m.event_id, m.revision, m.event_type, m.seq, gen_random_uuid()::text, now(), now(),
                    m.ordering_key
               FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::bigint[], $8::text[])
                 AS m(id, event_id, revision, event_type, seq, ordering_key)
             ON CONFLICT (endpoint_id, event_id, revision) DO NOTHING`,
            [
              tenantId,
              endpoint.id,
              missing.rows.map((r) =>
                this.newId(endpoint.id, r.event_id, r.revision, r.received_at.getTime()),
              ),
              missing.rows.map((r) => r.event_id),
              missing.rows.map((r) => r.revision),
              missing.rows.map((r) => r.event_type),
              missing.rows.map((r) => r.seq),
              missing.rows.map((r) => r.ordering_key),
            ],
          );
          created = inserted.rowCount ?? 0;
        }
      }
      const requeued = await client.query(
        `UPDATE webhook_deliveries d SET status = 'pending', token = gen_random_uuid()::text,
                dispatch_requested_at = now(), next_attempt_at = now()
           FROM events ev
          WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.dispatch_requested_at IS NULL
            AND ev.event_id = d.event_id AND ev.revision = d.revision AND ev.is_current
            AND ev.occurred_at >= $3 AND ($4::boolean IS FALSE OR d.status = 'failed')`,
        [tenantId, endpoint.id, since.toISOString(), failedOnly],
      );
      await client.query('SELECT pg_notify($1, $2)', [this.channel, '']);
      await client.query('COMMIT');
      return created + (requeued.rowCount ?? 0);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Success rate, latency percentiles and last error of an endpoint's attempts: counts and last
   * error from the counters kept with the attempts (plus their deltas not compacted yet),
   * percentiles over the latest
   * `LATENCY_WINDOW` attempts, failed deliveries through their partial index. None of it reads
   * more rows as the attempt history grows.
   */
  async stats(tenantId: string, endpointId: string): Promise<WebhookStats> {
    const res = await this.pool.query<{
      attempts: string | null;
      succeeded: string | null;
      last_error: string | null;
      last_error_at: Date | null;
    }>(
      `SELECT sum(attempts) AS attempts, sum(succeeded) AS succeeded,
              (array_agg(last_error ORDER BY last_error_at DESC NULLS LAST))[1] AS last_error,
              max(last_error_at) AS last_error_at
         FROM (SELECT attempts, succeeded, last_error, last_error_at
                 FROM webhook_endpoint_counts WHERE tenant_id = $1 AND endpoint_id = $2
               UNION ALL
               SELECT attempts, succeeded, last_error, last_error_at
                 FROM ${pendingDeltas('$1', '$2')} p) c`,
      [tenantId, endpointId],
    );
    const latency = await this.pool.query<{ p50: number | null; p99: number | null }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
         FROM (SELECT latency_ms FROM webhook_attempts WHERE tenant_id = $1 AND endpoint_id = $2
                ORDER BY id DESC LIMIT $3) latest`,
      [tenantId, endpointId, LATENCY_WINDOW],
    );
    const failedDeliveries = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM webhook_deliveries
        WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'failed'`,
      [tenantId, endpointId],
    );
    const counts = res.rows[0];
    const attempts = Number(counts?.attempts ?? 0);
    const succeeded = Number(counts?.succeeded ?? 0);
    const row = latency.rows[0];
    return {
      attempts,
      succeeded,
      failed: attempts - succeeded,
      success_rate: attempts === 0 ? null : succeeded / attempts,
      latency_p50_ms: row?.p50 ?? null,
      latency_p99_ms: row?.p99 ?? null,
      deliveries_failed: Number(failedDeliveries.rows[0]?.n ?? 0),
      last_error: counts?.last_error ?? null,
      last_error_at: iso(counts?.last_error_at ?? null),
    };
  }

  /** Delivery status of one event revision to each endpoint (for `GET /api/v1/events/{id}`). */
  async statusOfEvent(
    tenantId: string,
    eventId: string,
    revision: number,
  ): Promise<WebhookDeliveryStatus[]> {
    const res = await this.pool.query<DeliveryRecord & { url: string }>(
      `SELECT ${qualified(COLUMNS, 'd')}, e.url
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.tenant_id = $1 AND d.event_id = $2 AND d.revision = $3
        ORDER BY d.endpoint_id`,
      [tenantId, eventId, revision],
    );
    return res.rows.map((r) => ({
      delivery_id: r.id,
      webhook_id: r.endpoint_id,
      url: r.url,
      ...progressOf(r),
    }));
  }
}
