import type { EventType, EworkerProcessingStatus, ParkedEvent } from '@reten/contracts';
import { toOutboxRow } from '@reten/store';
import type { OutboxRecord, OutboxRow, Pool } from '@reten/store';

interface RegistrationRecord {
  event_type: string;
  eworker: string;
  json_schema: unknown;
  version: string;
  updated_at: Date;
}

interface TypeCountsRecord {
  event_type: string;
  events: number;
  processed: number;
  failed: number;
}

export interface EworkerCounts {
  name: string;
  types: string[];
  registeredAt: Date;
  processed: number;
  failed: number;
  parked: number;
  lastProcessedAt: Date | null;
}

/** Reads of the eworker registrations and marks for the API; every count is per tenant. */
export class EworkerQueries {
  constructor(private readonly pool: Pool) {}

  /** Registered types plus the types the tenant has events of, with counts; or one type. */
  async eventTypes(tenantId: string, only?: string): Promise<EventType[]> {
    const one = only ?? null;
    const [registrations, counts] = await Promise.all([
      this.pool.query<RegistrationRecord>(
        `SELECT event_type, eworker, json_schema, version::text AS version, updated_at
           FROM event_type_schemas WHERE ($1::text IS NULL OR event_type = $1)
          ORDER BY event_type, eworker`,
        [one],
      ),
      this.pool.query<TypeCountsRecord>(
        `WITH c AS (SELECT event_type, count(*)::int AS events FROM events
                     WHERE tenant_id = $1 AND is_current AND ($2::text IS NULL OR event_type = $2)
                     GROUP BY event_type),
              p AS (SELECT event_type, sum(processed)::int AS processed FROM eworker_mark_counts
                     WHERE tenant_id = $1 AND ($2::text IS NULL OR event_type = $2)
                     GROUP BY event_type),
              -- parked now: an index range per eworker, as long as what is parked
              f AS (SELECT pm.event_type, count(*)::int AS failed
                      FROM eworkers w
                      JOIN eworker_marks pm ON pm.tenant_id = $1 AND pm.eworker = w.name
                                          AND pm.status = 'failed'
                     WHERE ($2::text IS NULL OR pm.event_type = $2)
                     GROUP BY pm.event_type),
              m AS (SELECT coalesce(p.event_type, f.event_type) AS event_type,
                           coalesce(p.processed, 0) AS processed, coalesce(f.failed, 0) AS failed
                      FROM p FULL JOIN f ON f.event_type = p.event_type)
         SELECT coalesce(c.event_type, m.event_type) AS event_type,
                coalesce(c.events, 0) AS events, coalesce(m.processed, 0) AS processed,
                coalesce(m.failed, 0) AS failed
           FROM c FULL JOIN m ON m.event_type = c.event_type`,
        [tenantId, one],
      ),
    ]);
    const byType = new Map<string, EventType>();
    const entry = (type: string): EventType => {
      let e = byType.get(type);
      if (!e) {
        e = {
          event_type: type,
          eworkers: [],
          json_schema: null,
          registrations: [],
          counts: { events: 0, processed: 0, failed: 0 },
        };
        byType.set(type, e);
      }
      return e;
    };
    for (const r of registrations.rows) {
      const e = entry(r.event_type);
      e.eworkers.push(r.eworker);
      if (e.json_schema === null) e.json_schema = r.json_schema;
      e.registrations.push({
        eworker: r.eworker,
        json_schema: r.json_schema,
        version: Number(r.version),
        updated_at: r.updated_at.toISOString(),
      });
    }
    for (const c of counts.rows) {
      entry(c.event_type).counts = { events: c.events, processed: c.processed, failed: c.failed };
    }
    return [...byType.values()].sort((a, b) => a.event_type.localeCompare(b.event_type));
  }

  /**
   * Every registered eworker with the tenant's counts: processed and failed (parked at least
   * once) from the counters kept with the marks, parked from the index of parked marks.
   */
  async eworkers(tenantId: string): Promise<EworkerCounts[]> {
    const res = await this.pool.query<{
      name: string;
      types: string[];
      registered_at: Date;
      processed: number;
      failed: number;
      parked: number;
      last_processed_at: Date | null;
    }>(
      `SELECT w.name, w.types, w.registered_at,
              coalesce(c.processed, 0)::int AS processed, coalesce(c.failed, 0)::int AS failed,
              p.parked, c.last_processed_at
         FROM eworkers w
         LEFT JOIN LATERAL (
           SELECT sum(processed) AS processed, sum(failed) AS failed,
                  max(last_processed_at) AS last_processed_at
             FROM eworker_mark_counts WHERE tenant_id = $1 AND eworker = w.name) c ON true
         -- parked now: an index range as long as what is parked, not a scan of the marks
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS parked FROM eworker_marks
            WHERE tenant_id = $1 AND eworker = w.name AND status = 'failed') p
        ORDER BY w.name`,
      [tenantId],
    );
    return res.rows.map((r) => ({
      name: r.name,
      types: r.types,
      registeredAt: r.registered_at,
      processed: r.processed,
      failed: r.failed,
      parked: r.parked,
      lastProcessedAt: r.last_processed_at,
    }));
  }

  /** Whether an eworker is registered. */
  async exists(name: string): Promise<boolean> {
    const res = await this.pool.query('SELECT 1 FROM eworkers WHERE name = $1', [name]);
    return (res.rowCount ?? 0) > 0;
  }

  /**
   * The status of one revision at each eworker registered for its type (or that marked it):
   * no mark = pending; a replay in flight counts as pending.
   */
  async statusOf(
    tenantId: string,
    event: { eventId: string; revision: number; eventType: string },
  ): Promise<EworkerProcessingStatus[]> {
    const res = await this.pool.query<{
      eworker: string;
      status: string | null;
      attempts: number | null;
      last_error: string | null;
      updated_at: Date | null;
    }>(
      `SELECT w.eworker, m.status, m.attempts, m.last_error, m.updated_at
         FROM (SELECT eworker FROM event_type_schemas WHERE event_type = $4
               UNION
               SELECT eworker FROM eworker_marks
                WHERE tenant_id = $1 AND event_id = $2 AND revision = $3) AS w
         LEFT JOIN eworker_marks m
           ON m.eworker = w.eworker AND m.tenant_id = $1 AND m.event_id = $2 AND m.revision = $3
        ORDER BY w.eworker`,
      [tenantId, event.eventId, event.revision, event.eventType],
    );
    return res.rows.map((r) => ({
      eworker: r.eworker,
      revision: event.revision,
      status: r.status === 'processed' || r.status === 'failed' ? r.status : 'pending',
      attempts: r.attempts ?? 0,
      last_error: r.last_error,
      updated_at: r.updated_at ? r.updated_at.toISOString() : null,
    }));
  }

  /** What `GET /api/v1/eworkers/{name}/parked` lists: the tenant's parked revisions, oldest first. */
  async parkedList(tenantId: string, eworker: string, limit: number): Promise<ParkedEvent[]> {
    const res = await this.pool.query<{
      event_id: string;
      revision: number;
      event_type: string;
      status: 'failed' | 'replaying';
      attempts: number;
      last_error: string | null;
      updated_at: Date;
    }>(
      `SELECT m.event_id, m.revision, m.event_type, m.status, m.attempts, m.last_error, m.updated_at
         FROM eworker_marks m
         JOIN events e ON e.event_id = m.event_id AND e.revision = m.revision AND e.tenant_id = m.tenant_id
        WHERE m.tenant_id = $1 AND m.eworker = $2 AND m.status IN ('failed', 'replaying')
        ORDER BY e.seq
        LIMIT $3`,
      [tenantId, eworker, limit],
    );
    return res.rows.map((r) => ({ ...r, updated_at: r.updated_at.toISOString() }));
  }

  /** The tenant's parked revisions of an eworker (and replays not yet done), in event order. */
  async parked(tenantId: string, eworker: string, limit: number): Promise<OutboxRow[]> {
    const res = await this.pool.query<OutboxRecord>(
      `SELECT e.seq, e.tenant_id, e.event_id, e.revision, e.event_type, e.occurred_at,
              e.data::text AS data, e.received_at, e.ordering_key, e.traceparent, e.tracestate
         FROM eworker_marks m
         JOIN events e ON e.event_id = m.event_id AND e.revision = m.revision AND e.tenant_id = m.tenant_id
        WHERE m.tenant_id = $1 AND m.eworker = $2 AND m.status IN ('failed', 'replaying')
        ORDER BY e.seq
        LIMIT $3`,
      [tenantId, eworker, limit],
    );
    return res.rows.map(toOutboxRow);
  }

  /** Moves marks between `failed` and `replaying` (a replay starts, or its publish failed). */
  async setReplayState(
    tenantId: string,
    eworker: string,
    rows: OutboxRow[],
    to: 'replaying' | 'failed',
  ): Promise<void> {
    await this.pool.query(
      `UPDATE eworker_marks m SET status = $3, updated_at = now()
         FROM unnest($4::text[], $5::int[]) AS r(event_id, revision)
        WHERE m.tenant_id = $1 AND m.eworker = $2 AND m.event_id = r.event_id
          AND m.revision = r.revision AND m.status IN ('failed', 'replaying')`,
      [tenantId, eworker, to, rows.map((r) => r.eventId), rows.map((r) => r.revision)],
    );
  }
}
