import type { Pool } from 'pg';
import { eventKeyAt } from './event-key';

export interface BatchLimits {
  batchRows: number;
  maxBatches: number;
}

/** Runs `statement` (which deletes at most one batch) until a batch is short or the limit. */
async function inBatches(limits: BatchLimits, statement: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < limits.maxBatches; i++) {
    const n = await statement();
    total += n;
    if (n < limits.batchRows) break;
  }
  return total;
}

/**
 * Deletes the events (every revision) of tenants whose period is shorter than `horizonSeconds`
 * (what the partitions keep) and older than their period, oldest first, by index range on
 * (tenant_id, event_id) of current revisions, `batchRows` events per statement. An event whose
 * current revision is not published yet is left for the relay.
 */
export async function purgeTenantEvents(
  pool: Pool,
  defaultSeconds: number,
  horizonSeconds: number,
  nowMs: number,
  limits: BatchLimits,
): Promise<number> {
  const tenants = await pool.query<{ id: string; seconds: number }>(
    `SELECT id, coalesce(events_retention_seconds, $1::int) AS seconds FROM tenants
      WHERE coalesce(events_retention_seconds, $1::int) < $2::int`,
    [defaultSeconds, horizonSeconds],
  );
  let total = 0;
  for (const tenant of tenants.rows) {
    const cutoff = eventKeyAt(nowMs - tenant.seconds * 1000);
    total += await inBatches(limits, async () => {
      // every revision of the batch's events goes (they share the event's id, and partition)
      const res = await pool.query(
        `WITH doomed AS (
           SELECT event_id FROM events
            WHERE tenant_id = $1 AND is_current AND event_id < $2
              AND stream_position <= reten_published_through()
            ORDER BY event_id LIMIT $3)
         DELETE FROM events e USING doomed d
          WHERE e.tenant_id = $1 AND e.event_id = d.event_id AND e.event_id < $2`,
        [tenant.id, cutoff, limits.batchRows],
      );
      return res.rowCount ?? 0;
    });
  }
  return total;
}

/**
 * Deletes Idempotency-Key records that expired or are older than `retentionSeconds`, through
 * the expires_at and created_at indexes, `batchRows` per statement.
 */
export async function purgeIdempotencyKeys(
  pool: Pool,
  retentionSeconds: number,
  nowMs: number,
  limits: BatchLimits,
): Promise<number> {
  const now = new Date(nowMs).toISOString();
  const oldest = new Date(nowMs - retentionSeconds * 1000).toISOString();
  const expired = await inBatches(limits, async () => {
    const res = await pool.query(
      `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM idempotency_keys WHERE expires_at < $1 LIMIT $2))`,
      [now, limits.batchRows],
    );
    return res.rowCount ?? 0;
  });
  const old = await inBatches(limits, async () => {
    const res = await pool.query(
      `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2))`,
      [oldest, limits.batchRows],
    );
    return res.rowCount ?? 0;
  });
  return expired + old;
}

/**
 * Deletes the relay's `published_rounds` marks no stored event needs any more: an event's
 * published time is that of the first mark at or above its position, so the marks below the
 * smallest position still stored say nothing (the newest mark always stays: it is the outbox's
 * watermark). By the primary key, `batchRows` per statement.
 */
export async function prunePublishedRounds(pool: Pool, limits: BatchLimits): Promise<number> {
  return inBatches(limits, async () => {
    const res = await pool.query(
      `DELETE FROM published_rounds WHERE last_position = ANY (ARRAY(
         SELECT last_position FROM published_rounds
          WHERE last_position < (SELECT min(stream_position) FROM events)
            AND last_position < reten_published_through()
          ORDER BY last_position LIMIT $1))`,
      [limits.batchRows],
    );
    return res.rowCount ?? 0;
  });
}
