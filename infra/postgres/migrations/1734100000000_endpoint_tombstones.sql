-- Up Migration

-- The statements that store delivery rows no longer lock their endpoints' rows (FOR KEY SHARE,
-- since 1733900000000_delivery_rows_endpoint_lock.sql): in the delivery service each statement
-- wrote a row lock to the same few endpoint rows, a lock the count compaction and the
-- statements of other batches took too, and without it bench:delivery moved by about +0.08.
-- A statement still stores rows only for the endpoints it finds; what the lock also gave, that
-- deleting an endpoint waited for a statement that had found it, is now done after the fact:
-- deleting an endpoint leaves a tombstone here (WebhookEndpointRepo.delete), and
-- sweepEndpointTombstones deletes what such a statement stored (rows of an endpoint that
-- no longer exists) once the tombstone is older than any statement can run
-- (ENDPOINT_TOMBSTONE_GRACE_MS: DATABASE_STATEMENT_TIMEOUT_MS is at most 10 minutes), then the
-- tombstone. Meanwhile the API's reads of deliveries by id join their endpoint, so such rows are
-- never shown.
CREATE TABLE webhook_endpoint_tombstones (
  endpoint_id text        PRIMARY KEY,
  tenant_id   text        NOT NULL,
  deleted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoint_tombstones_deleted_idx ON webhook_endpoint_tombstones (deleted_at);

-- Down Migration
DROP TABLE webhook_endpoint_tombstones;
