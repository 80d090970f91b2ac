-- Up Migration

-- The per-endpoint counts (webhook_attempt_counts, webhook_endpoint_counts) were upserted by
-- every batch of attempt outcomes: two rows per endpoint and batch, ~1.3 row updates per
-- delivery at 100 endpoints, about as much of PostgreSQL's CPU as the attempt rows themselves.
-- A batch now inserts one row here instead: what it adds to each endpoint's counts, per minute,
-- as parallel arrays (one heap tuple whatever the number of endpoints). The delivery service
-- compacts these rows into the counts every second (compactCountDeltas: the rows are deleted
-- and added in one statement, so each is counted once, and a crash leaves them to the next
-- compaction), and the readers of the counts add the rows not compacted yet, so what the API
-- shows is exact at any moment.
CREATE TABLE webhook_count_deltas (
  id             bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint_ids   text[]        NOT NULL,
  tenant_ids     text[]        NOT NULL,
  minutes        timestamptz[] NOT NULL,
  attempts       integer[]     NOT NULL,
  succeeded      integer[]     NOT NULL,
  last_errors    text[]        NOT NULL,
  last_error_ats timestamptz[] NOT NULL
);
-- A batch over 100 endpoints makes a row of ~5 KB: kept inline, not compressed or moved to the
-- TOAST table (rows live about a second).
ALTER TABLE webhook_count_deltas SET (toast_tuple_target = 8160);

-- Down Migration
INSERT INTO webhook_attempt_counts AS c (endpoint_id, minute, slot, tenant_id, attempts, succeeded)
SELECT u.endpoint_id, u.minute, 0, u.tenant_id, sum(u.attempts), sum(u.succeeded)
  FROM webhook_count_deltas d,
       unnest(d.endpoint_ids, d.tenant_ids, d.minutes, d.attempts, d.succeeded)
         AS u(endpoint_id, tenant_id, minute, attempts, succeeded)
 WHERE u.endpoint_id IN (SELECT id FROM webhook_endpoints)
 GROUP BY 1, 2, 4
ON CONFLICT (endpoint_id, minute, slot) DO UPDATE
   SET attempts = c.attempts + EXCLUDED.attempts, succeeded = c.succeeded + EXCLUDED.succeeded;
INSERT INTO webhook_endpoint_counts AS c (endpoint_id, slot, tenant_id, attempts, succeeded,
                                          last_error, last_error_at)
SELECT u.endpoint_id, 0, u.tenant_id, sum(u.attempts), sum(u.succeeded),
       (array_agg(u.last_error ORDER BY u.last_error_at DESC NULLS LAST))[1], max(u.last_error_at)
  FROM webhook_count_deltas d,
       unnest(d.endpoint_ids, d.tenant_ids, d.attempts, d.succeeded, d.last_errors,
              d.last_error_ats) AS u(endpoint_id, tenant_id, attempts, succeeded, last_error,
                                     last_error_at)
 WHERE u.endpoint_id IN (SELECT id FROM webhook_endpoints)
 GROUP BY 1, 3
ON CONFLICT (endpoint_id, slot) DO UPDATE
   SET attempts = c.attempts + EXCLUDED.attempts,
       succeeded = c.succeeded + EXCLUDED.succeeded,
       last_error = CASE WHEN EXCLUDED.last_error_at >= c.last_error_at OR c.last_error_at IS NULL
                         THEN EXCLUDED.last_error ELSE c.last_error END,
       last_error_at = GREATEST(c.last_error_at, EXCLUDED.last_error_at);
DROP TABLE webhook_count_deltas;
