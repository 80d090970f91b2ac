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
  const res = await db.query<{ event_id: string; revision: number }>(
    `INSERT INTO eworker_marks AS m (eworker, event_id, revision, tenant_id, event_type, status, attempts)
     SELECT $1, e.event_id, e.revision, e.tenant_id, e.event_type, 'processed', $6
       FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) AS e(event_id, revision, tenant_id, event_type)
     ON CONFLICT (eworker, event_id, revision) DO UPDATE
        SET status = 'processed', attempts = m.attempts + $6, updated_at = now()
      WHERE m.status = 'replaying'
     RETURNING event_id, revision`,
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
  await pool.query(
    `INSERT INTO eworker_marks AS m
            (eworker, event_id, revision, tenant_id, event_type, status, attempts, parked_count, last_error)
     VALUES ($1, $2, $3, $4, $5, 'failed', $6, 1, $7)
     ON CONFLICT (eworker, event_id, revision) DO UPDATE
        SET status = 'failed', attempts = m.attempts + EXCLUDED.attempts,
            parked_count = m.parked_count + 1, last_error = EXCLUDED.last_error, updated_at = now()
      WHERE m.status <> 'processed'`,
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
