import type { Pool } from 'pg';
import { eventEnvelopeJson, typeFilterToLike } from '@reten/contracts';

/** One event revision as the stream sends it: `json` is the envelope, byte for byte as published. */
export interface StreamEvent {
  /** Its stream position: the relay's publish order, what resume goes by. */
  position: string;
  eventId: string;
  revision: number;
  eventType: string;
  json: string;
}

/** Where a revision sits in the stream, for resuming after it. */
export interface StreamPosition {
  /**
   * Undefined while the revision has none yet (it was never streamed): new events get theirs
   * when their group commit stores them, revisions and system events when the relay takes them.
   */
  position: string | undefined;
  receivedAt: Date;
}

/**
 * Reads what the stream service needs to resume a client: positions and pages of the log, by
 * stream position (the order the relay published in), so "after X" means in a backfill what
 * it means live.
 */
export class StreamBackfillStore {
  constructor(private readonly pool: Pool) {}

  /** The stream position of `eventId` (at `revision`, or its first revision) in the tenant's log. */
  async position(
    tenantId: string,
    eventId: string,
    revision: number | undefined,
  ): Promise<StreamPosition | undefined> {
    const res = await this.pool.query<{ stream_position: string | null; received_at: Date }>(
      `SELECT stream_position, received_at FROM events
        WHERE tenant_id = $1 AND event_id = $2 AND ($3::int IS NULL OR revision = $3)
        ORDER BY revision LIMIT 1`,
      [tenantId, eventId, revision ?? null],
    );
    const row = res.rows[0];
    return row
      ? { position: row.stream_position ?? undefined, receivedAt: row.received_at }
      : undefined;
  }

  /**
   * The tenant's newest published stream position ("0" when none was published yet). Published
   * only: a group commit positions its rows as it stores them, and a live cursor started past a
   * committed row the relay has not published yet would skip it when it comes.
   */
  async latestPosition(tenantId: string): Promise<string> {
    const res = await this.pool.query<{ position: string | null }>(
      `SELECT stream_position::text AS position FROM events
        WHERE tenant_id = $1
          AND stream_position <= reten_published_through()
        ORDER BY stream_position DESC LIMIT 1`,
      [tenantId],
    );
    return res.rows[0]?.position ?? '0';
  }

  /**
   * Revisions of the tenant with a stream position past `afterPosition` whose type matches one
   * of `typeFilters` (`*` wildcards; empty = all), in position order, `limit` at most. Positions
   * are taken under the counter's row lock, held until the commit (a group commit's statement or
   * the relay's): once a position is visible, every smaller one is, so a page never skips one
   * that shows up later. A page may hold rows the relay has not published yet.
   */
  async after(
    tenantId: string,
    afterPosition: string,
    typeFilters: readonly string[],
    limit: number,
  ): Promise<StreamEvent[]> {
    const likes = typeFilters.includes('*') ? [] : typeFilters.map(typeFilterToLike);
    const res = await this.pool.query<{
      stream_position: string;
      event_id: string;
      revision: number;
      event_type: string;
      occurred_at: Date;
      data: string;
      ordering_key: string | null;
    }>(
      `SELECT stream_position, event_id, revision, event_type, occurred_at, data::text AS data,
              ordering_key
         FROM events
        WHERE tenant_id = $1 AND stream_position > $2::bigint
          AND (cardinality($3::text[]) = 0 OR event_type LIKE ANY ($3::text[]))
        ORDER BY stream_position
        LIMIT $4`,
      [tenantId, afterPosition, likes, limit],
    );
    return res.rows.map((r) => ({
      position: r.stream_position,
      eventId: r.event_id,
      revision: r.revision,
      eventType: r.event_type,
      // the bytes the relay published: the same builder, around the stored data text
      json: eventEnvelopeJson({
        eventId: r.event_id,
        eventType: r.event_type,
        occurredAt: r.occurred_at,
        revision: r.revision,
        orderingKey: r.ordering_key,
        dataJson: r.data,
      }),
    }));
  }
}
