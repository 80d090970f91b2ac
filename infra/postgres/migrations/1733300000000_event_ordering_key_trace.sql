-- Up Migration

-- Per-event fields given at ingest and kept by every revision:
-- - ordering_key: events that share it reach each webhook endpoint in publish order, also across
--   retries (as an SQS message group or a Pub/Sub ordering key). NULL: the event has none.
-- - traceparent / tracestate: the W3C Trace Context the event was accepted under, carried on the
--   broker message so consumers continue the trace. NULL: none was sent (or it was invalid).
-- Nullable columns without a default: adding them rewrites no row and holds the table lock only
-- for the catalog change. Rows stored before read as events without a key or a trace.
ALTER TABLE events
  ADD COLUMN ordering_key text,
  ADD COLUMN traceparent  text,
  ADD COLUMN tracestate   text;

-- The gateway refuses any other key with a 422; the database agrees, so no path can store one
-- that the API would refuse to show. NOT VALID then VALIDATE: the check scans the existing rows
-- (all NULL here) without blocking writes meanwhile.
ALTER TABLE events
  ADD CONSTRAINT events_ordering_key_check
  CHECK (ordering_key ~ '^[\x21-\x7e]{1,128}$') NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_ordering_key_check;

-- Down Migration
ALTER TABLE events DROP CONSTRAINT events_ordering_key_check;
ALTER TABLE events
  DROP COLUMN tracestate,
  DROP COLUMN traceparent,
  DROP COLUMN ordering_key;
