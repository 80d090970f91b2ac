import type { Pool, PoolClient } from '@reten/store';
import type { MessageIdentity } from '@reten/broker';

/**
 * Claims event revisions for processing inside the caller's open transaction, by writing
 * their `processed` marks first. Returns the keys (`<event_id>:<revision>`) that are new or
 * being replayed; the others were already processed or parked (a redelivery: skip them).
 * The insert locks the mark rows, so a second consumer claiming the same revision waits for
 * this transaction and then sees it done: no revision is handled twice, even during a
 * takeover between replicas.
 */
export async function claimForProcessing(
  db: PoolClient,
  eworker: string,
  events: MessageIdentity[],
  attempt: number,
): Promise<Set<string>> {
  // one row per revision: a second copy in the same INSERT would fail the whole statement
  const unique = [...new Map(events.map((e) => [`${e.eventId}:${e.revision}`, e])).values()];
  // the API's processed counts are kept in the same statement as the marks they count, so
  // they commit (or roll back) with the batch
  const res = await db.query<{ event_id: string; revision: number }>(
    `WITH claimed AS (
       INSERT INTO eworker_marks AS m (eworker, event_id, revision, tenant_id, event_type, status, attempts)
       SELECT $1, e.event_id, e.revision, e.tenant_id, e.event_type, 'processed', $6
         FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) AS e(event_id, revision, tenant_id, event_type)
       ON CONFLICT (eworker, event_id, revision) DO UPDATE
          SET status = 'processed', attempts = m.attempts + $6, updated_at = now()
        WHERE m.status = 'replaying'
       RETURNING event_id, revision, tenant_id, event_type),
     counted AS (
       INSERT INTO eworker_mark_counts AS c (tenant_id, eworker, event_type, processed, last_processed_at)
       SELECT tenant_id, $1, event_type, count(*), now() FROM claimed
        GROUP BY tenant_id, event_type ORDER BY tenant_id, event_type
       ON CONFLICT (tenant_id, eworker, event_type) DO UPDATE
          SET processed = c.processed + EXCLUDED.processed,
              last_processed_at = EXCLUDED.last_processed_at)
     SELECT event_id, revision FROM claimed`,
    [
      eworker,
      unique.map((e) => e.eventId),
      unique.map((e) => e.revision),
      unique.map((e) => e.tenantId),
      unique.map((e) => e.type),
      attempt,
    ],
  );
  return new Set(res.rows.map((r) => `${r.event_id}:${r.revision}`));
}

/** Marks a revision failed (parked) with its error; a processed mark is never overwritten. */
export async function markFailed(
  pool: Pool,
  eworker: string,
  event: MessageIdentity,
  attempts: number,
  error: string,
): Promise<void> {
  // a revision counts as failed the first time it is parked (a new mark: a replayed one that
  // fails again was counted already), in the same statement as its mark
  await pool.query(
    `WITH parked AS (
       INSERT INTO eworker_marks AS m
              (eworker, event_id, revision, tenant_id, event_type, status, attempts, parked_count, last_error)
       VALUES ($1, $2, $3, $4, $5, 'failed', $6, 1, $7)
       ON CONFLICT (eworker, event_id, revision) DO UPDATE
          SET status = 'failed', attempts = m.attempts + EXCLUDED.attempts,
              parked_count = m.parked_count + 1, last_error = EXCLUDED.last_error, updated_at = now()
        WHERE m.status <> 'processed'
       RETURNING parked_count)
     INSERT INTO eworker_mark_counts AS c (tenant_id, eworker, event_type, failed)
     SELECT $4, $1, $5, 1 FROM parked WHERE parked_count = 1
     ON CONFLICT (tenant_id, eworker, event_type) DO UPDATE SET failed = c.failed + 1`,
    [eworker, event.eventId, event.revision, event.tenantId, event.type, attempts, error],
  );
}

/** Whether a revision was already parked (a redelivery of a message parked before a crash). */
export async function isParked(
  pool: Pool,
  eworker: string,
  event: MessageIdentity,
): Promise<boolean> {
  const res = await pool.query(
    `SELECT 1 FROM eworker_marks
      WHERE eworker = $1 AND event_id = $2 AND revision = $3 AND status IN ('failed', 'processed')`,
    [eworker, event.eventId, event.revision],
  );
  return (res.rowCount ?? 0) > 0;
}
