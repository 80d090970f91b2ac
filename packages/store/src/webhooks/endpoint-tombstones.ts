import type { Pool } from 'pg';
import { DATABASE_STATEMENT_TIMEOUT_MAX_MS } from '@reten/config';

/**
 * How long a deleted endpoint's tombstone is kept before its sweep: longer than any statement
 * that found the endpoint before its deletion can still run and commit (the statements that
 * store delivery rows are single statements, bounded by `DATABASE_STATEMENT_TIMEOUT_MS`, at
 * most DATABASE_STATEMENT_TIMEOUT_MAX_MS, 10 minutes), with 5 minutes to spare: 15 minutes.
 */
export const ENDPOINT_TOMBSTONE_GRACE_MS = DATABASE_STATEMENT_TIMEOUT_MAX_MS + 5 * 60_000;

/**
 * Deletes the delivery rows and attempts of deleted endpoints whose tombstone is older than
 * `graceMs`, then the tombstones, up to `limit` endpoints per call (each tombstone once: a
 * replica running it at the same time skips the ones this call holds). Those rows were stored
 * by a statement that found the endpoint just before its deletion committed (see
 * infra/postgres/migrations/1734100000000_endpoint_tombstones.sql); usually there are none.
 * Returns the tombstones swept and the rows deleted.
 */
export async function sweepEndpointTombstones(
  pool: Pool,
  graceMs = ENDPOINT_TOMBSTONE_GRACE_MS,
  limit = 100,
): Promise<{ tombstones: number; rows: number }> {
  const res = await pool.query<{ tombstones: number; deliveries: number; attempts: number }>(
    `WITH t AS MATERIALIZED (
       SELECT endpoint_id, tenant_id FROM webhook_endpoint_tombstones
        WHERE deleted_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED),
     d AS (DELETE FROM webhook_deliveries w USING t
            WHERE w.tenant_id = t.tenant_id AND w.endpoint_id = t.endpoint_id RETURNING 1),
     a AS (DELETE FROM webhook_attempts x USING t
            WHERE x.tenant_id = t.tenant_id AND x.endpoint_id = t.endpoint_id RETURNING 1),
     g AS (DELETE FROM webhook_endpoint_tombstones z USING t
            WHERE z.endpoint_id = t.endpoint_id RETURNING 1)
     SELECT (SELECT count(*) FROM g)::int AS tombstones, (SELECT count(*) FROM d)::int AS deliveries,
            (SELECT count(*) FROM a)::int AS attempts`,
    [graceMs, limit],
  );
  const row = res.rows[0];
  return {
    tombstones: row?.tombstones ?? 0,
    rows: (row?.deliveries ?? 0) + (row?.attempts ?? 0),
  };
}
