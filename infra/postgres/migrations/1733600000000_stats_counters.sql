-- Up Migration

-- The statistics the API shows of eworkers and webhook endpoints come from these small counter
-- tables, kept in the same statement as the mark or attempt they count, so that reading them
-- costs the same whatever the size of eworker_marks and webhook_attempts (which retention
-- trims: the counters are totals since the counting began, not of what is still stored).

-- Revisions an eworker processed, and revisions it parked at least once, per tenant and type.
-- Only the eworker's active consumer writes its rows (single active consumer), one statement
-- per batch, so the rows are not contended.
CREATE TABLE eworker_mark_counts (
  tenant_id         text        NOT NULL,
  eworker           text        NOT NULL,
  event_type        text        NOT NULL,
  processed         bigint      NOT NULL DEFAULT 0,
  failed            bigint      NOT NULL DEFAULT 0,
  last_processed_at timestamptz,
  PRIMARY KEY (tenant_id, eworker, event_type)
);

-- Attempts per endpoint and minute (the timeline). `slot` spreads the writers of one busy
-- endpoint over several rows (a slot per database backend), so concurrent attempt batches do
-- not queue on one row lock; readers add the slots up.
CREATE TABLE webhook_attempt_counts (
  endpoint_id text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  minute      timestamptz NOT NULL,
  slot        smallint    NOT NULL,
  tenant_id   text        NOT NULL,
  attempts    integer     NOT NULL DEFAULT 0,
  succeeded   integer     NOT NULL DEFAULT 0,
  PRIMARY KEY (endpoint_id, minute, slot)
);

-- Attempts per endpoint since it was created, and its last failure (the stats).
CREATE TABLE webhook_endpoint_counts (
  endpoint_id   text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  slot          smallint    NOT NULL,
  tenant_id     text        NOT NULL,
  attempts      bigint      NOT NULL DEFAULT 0,
  succeeded     bigint      NOT NULL DEFAULT 0,
  last_error    text,
  last_error_at timestamptz,
  PRIMARY KEY (endpoint_id, slot)
);

-- Deliveries that ended failed, counted through a partial index: its size is the number of
-- failed deliveries, not of all deliveries.
CREATE INDEX webhook_deliveries_failed_idx ON webhook_deliveries (tenant_id, endpoint_id)
  WHERE status = 'failed';

-- What is stored already is counted once, here.
INSERT INTO eworker_mark_counts (tenant_id, eworker, event_type, processed, failed, last_processed_at)
SELECT tenant_id, eworker, event_type,
       count(*) FILTER (WHERE status = 'processed'),
       count(*) FILTER (WHERE parked_count > 0),
       max(updated_at) FILTER (WHERE status = 'processed')
  FROM eworker_marks
 GROUP BY tenant_id, eworker, event_type;

INSERT INTO webhook_attempt_counts (endpoint_id, minute, slot, tenant_id, attempts, succeeded)
SELECT a.endpoint_id, date_trunc('minute', a.started_at), 0, a.tenant_id,
       count(*), count(*) FILTER (WHERE a.succeeded)
  FROM webhook_attempts a
  JOIN webhook_endpoints e ON e.id = a.endpoint_id
 GROUP BY a.endpoint_id, date_trunc('minute', a.started_at), a.tenant_id;

INSERT INTO webhook_endpoint_counts (endpoint_id, slot, tenant_id, attempts, succeeded,
                                     last_error, last_error_at)
SELECT c.endpoint_id, 0, c.tenant_id, c.attempts, c.succeeded, f.error, f.started_at
  FROM (SELECT a.endpoint_id, a.tenant_id, count(*) AS attempts,
               count(*) FILTER (WHERE a.succeeded) AS succeeded
          FROM webhook_attempts a
          JOIN webhook_endpoints e ON e.id = a.endpoint_id
         GROUP BY a.endpoint_id, a.tenant_id) c
  LEFT JOIN LATERAL (
    SELECT COALESCE(x.error, 'HTTP ' || x.status_code) AS error, x.started_at
      FROM webhook_attempts x
     WHERE x.endpoint_id = c.endpoint_id AND x.tenant_id = c.tenant_id AND NOT x.succeeded
     ORDER BY x.id DESC LIMIT 1) f ON true;

-- Down Migration
DROP INDEX webhook_deliveries_failed_idx;
DROP TABLE webhook_endpoint_counts;
DROP TABLE webhook_attempt_counts;
DROP TABLE eworker_mark_counts;
