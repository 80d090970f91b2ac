import type { Pool, PoolClient } from 'pg';

/**
 * The uncompacted rows of `webhook_count_deltas` as one row per endpoint and minute:
 * (endpoint_id, tenant_id, minute, attempts, succeeded, last_error, last_error_at), filtered to
 * the endpoint `$endpoint` of the tenant `$tenant` (placeholders given by the reader). Readers
 * of the counts add these to the compacted counts in the same statement: one snapshot sees each
 * delta either here or in the counts, never in both (compactCountDeltas deletes and adds it in
 * one statement).
 */
export function pendingDeltas(tenant: string, endpoint: string): string {
  return `(SELECT u.*
     FROM webhook_count_deltas x,
          unnest(x.endpoint_ids, x.tenant_ids, x.minutes, x.attempts, x.succeeded, x.last_errors,
                 x.last_error_ats)
            AS u(endpoint_id, tenant_id, minute, attempts, succeeded, last_error, last_error_at)
    WHERE ${endpoint} = ANY (x.endpoint_ids)
      AND u.endpoint_id = ${endpoint} AND u.tenant_id = ${tenant})`;
}

/**
 * Adds up to `limit` rows of `webhook_count_deltas` (the oldest first) to the per-endpoint
 * counts (`webhook_attempt_counts` per minute, `webhook_endpoint_counts` in all) and deletes
 * them, in one statement: each delta is counted once, and a failure or a crash leaves it for
 * the next call. Rows another caller holds are skipped (replicas compact side by side);
 * deltas of endpoints deleted meanwhile are dropped. Returns how many rows it took.
 */
export async function compactCountDeltas(db: Pool | PoolClient, limit: number): Promise<number> {
  const res = await db.query<{ n: string }>(
    `WITH x AS MATERIALIZED (
       DELETE FROM webhook_count_deltas
        WHERE id IN (SELECT id FROM webhook_count_deltas ORDER BY id LIMIT $1
                        FOR UPDATE SKIP LOCKED)
       RETURNING endpoint_ids, tenant_ids, minutes, attempts, succeeded, last_errors,
                 last_error_ats),
     -- per endpoint and minute (the latest error of each)
     g AS MATERIALIZED (
       SELECT u.endpoint_id, u.tenant_id, u.minute, sum(u.attempts) AS attempts,
              sum(u.succeeded) AS succeeded, max(u.last_error_at) AS last_error_at,
              (array_agg(u.last_error ORDER BY u.last_error_at DESC)
                 FILTER (WHERE u.last_error_at IS NOT NULL))[1] AS last_error
         FROM x, unnest(x.endpoint_ids, x.tenant_ids, x.minutes, x.attempts, x.succeeded,
                        x.last_errors, x.last_error_ats)
                   AS u(endpoint_id, tenant_id, minute, attempts, succeeded, last_error,
                        last_error_at)
        GROUP BY 1, 2, 3),
     -- the endpoints, locked as a foreign key check would: one deleted meanwhile is not found,
     -- and its deltas go with this statement
     k AS MATERIALIZED (
       SELECT id FROM webhook_endpoints WHERE id IN (SELECT endpoint_id FROM g) FOR KEY SHARE),
     -- in the same key order in every compaction: replicas lock shared rows in one order
     cm AS (
       INSERT INTO webhook_attempt_counts AS c (endpoint_id, minute, slot, tenant_id, attempts,
                                                succeeded)
       SELECT endpoint_id, minute, 0, tenant_id, attempts, succeeded
         FROM g WHERE endpoint_id IN (SELECT id FROM k)
        ORDER BY endpoint_id COLLATE "C", minute
       ON CONFLICT (endpoint_id, minute, slot) DO UPDATE
          SET attempts = c.attempts + EXCLUDED.attempts,
              succeeded = c.succeeded + EXCLUDED.succeeded),
     ce AS (
       INSERT INTO webhook_endpoint_counts AS c (endpoint_id, slot, tenant_id, attempts,
                                                 succeeded, last_error, last_error_at)
       SELECT endpoint_id, 0, tenant_id, sum(attempts), sum(succeeded),
              (array_agg(last_error ORDER BY last_error_at DESC NULLS LAST))[1],
              max(last_error_at)
         FROM g WHERE endpoint_id IN (SELECT id FROM k)
        GROUP BY 1, 3 ORDER BY endpoint_id COLLATE "C"
       ON CONFLICT (endpoint_id, slot) DO UPDATE
          SET attempts = c.attempts + EXCLUDED.attempts,
              succeeded = c.succeeded + EXCLUDED.succeeded,
              last_error = CASE WHEN EXCLUDED.last_error_at >= c.last_error_at
                                  OR c.last_error_at IS NULL
                                THEN EXCLUDED.last_error ELSE c.last_error END,
              last_error_at = GREATEST(c.last_error_at, EXCLUDED.last_error_at))
     SELECT count(*) AS n FROM x`,
    [limit],
  );
  return Number(res.rows[0]?.n ?? 0);
}

/**
 * Vacuums `webhook_count_deltas` (skipped while another vacuum holds it): the compaction deletes
 * every row it takes, ~50 rows of up to ~8 KB a second at 4,000 deliveries/s over 100
 * endpoints, and until a vacuum marks their space free, new rows extend the table and the
 * readers' scan of it grows with it (measured: 13 MB and 5 ms per read after two minutes, on a
 * server with autovacuum off; autovacuum, when on, comes at most once a minute). A vacuum of a
 * table that holds a few seconds of rows takes a few milliseconds. It needs the table's owner
 * (the user that ran the migrations); anyone else gets a warning and nothing is vacuumed.
 */
export async function vacuumCountDeltas(db: Pool | PoolClient): Promise<void> {
  await db.query('VACUUM (SKIP_LOCKED) webhook_count_deltas');
}
