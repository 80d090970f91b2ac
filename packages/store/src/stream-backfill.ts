import type { Pool } from 'pg';
import { typeFilterToLike } from '@reten/contracts';

/** One event revision as the stream sends it: `json` is the envelope, byte for byte as published. */
export interface StreamEvent {
  seq: string;
  eventId: string;
  revision: number;
  eventType: string;
  json: string;
}

/** Where a revision sits in the log, for resuming after it. */
export interface StreamPosition {
  seq: string;
  receivedAt: Date;
}

/**
 * The envelope JSON built around the stored data text (`data::text`), so stream backfill sends
 * the same bytes as the relay published.
 */
export function streamEnvelopeJson(row: {
  eventId: string;
  eventType: string;
  occurredAt: Date;
  revision: number;
  dataJson: string;
}): string {
  return (
    `{"event_id":${JSON.stringify(row.eventId)},"event_type":${JSON.stringify(row.eventType)},` +
    `"timestamp":${JSON.stringify(row.occurredAt.toISOString())},"revision":${row.revision},` +
    `"data":${row.dataJson}}`
  );
}

/** Reads what the stream service needs to resume a client: positions and pages of the log. */
export class StreamBackfillStore {
  constructor(private readonly pool: Pool) {}

  /** The position of `eventId` (at `revision`, or its first revision) in the tenant's log. */
  async position(
    tenantId: string,
    eventId: string,
    revision: number | undefined,
  ): Promise<StreamPosition | undefined> {
    const res = await this.pool.query<{ seq: string; received_at: Date }>(
      `SELECT seq, received_at FROM events
        WHERE tenant_id = $1 AND event_id = $2 AND ($3::int IS NULL OR revision = $3)
        ORDER BY revision LIMIT 1`,
      [tenantId, eventId, revision ?? null],
    );
    const row = res.rows[0];
    return row ? { seq: row.seq, receivedAt: row.received_at } : undefined;
  }

  /** The tenant's newest seq ("0" when it has no event yet). */
  async latestSeq(tenantId: string): Promise<string> {
    const res = await this.pool.query<{ seq: string | null }>(
      'SELECT max(seq)::text AS seq FROM events WHERE tenant_id = $1',
      [tenantId],
    );
    return res.rows[0]?.seq ?? '0';
  }

  /**
   * Revisions of the tenant with seq > `afterSeq` whose type matches one of `typeFilters`
   * (`*` wildcards; empty = all), in seq order, `limit` at most.
   */
  async after(
    tenantId: string,
    afterSeq: string,
    typeFilters: readonly string[],
    limit: number,
  ): Promise<StreamEvent[]> {
    const likes = typeFilters.includes('*') ? [] : typeFilters.map(typeFilterToLike);
    const res = await this.pool.query<{
      seq: string;
      event_id: string;
      revision: number;
      event_type: string;
      occurred_at: Date;
      data: string;
    }>(
      `SELECT seq, event_id, revision, event_type, occurred_at, data::text AS data
         FROM events
        WHERE tenant_id = $1 AND seq > $2::bigint
          AND (cardinality($3::text[]) = 0 OR event_type LIKE ANY ($3::text[]))
        ORDER BY seq
        LIMIT $4`,
      [tenantId, afterSeq, likes, limit],
    );
    return res.rows.map((r) => ({
      seq: r.seq,
      eventId: r.event_id,
      revision: r.revision,
      eventType: r.event_type,
      json: streamEnvelopeJson({
        eventId: r.event_id,
        eventType: r.event_type,
        occurredAt: r.occurred_at,
        revision: r.revision,
        dataJson: r.data,
      }),
    }));
  }
}
