-- Up Migration

-- Per-key order of webhook deliveries (see services/delivery/README.md, "Order").
-- - webhook_endpoints.on_failure: what a delivery that finally failed does to the later events of
--   its ordering key for that endpoint: `skip` releases the next one, `block` holds them until an
--   operator retries it (and it succeeds) or sets the endpoint back to `skip`.
-- - webhook_deliveries.ordering_key: the event's key, copied when the row is inserted.
-- - status `held`: a delivery waiting for an earlier one of its (endpoint, key); it has no
--   message in RabbitMQ and is released (requeued through the dispatcher) when it becomes the
--   oldest unfinished delivery of its key.
-- - holds_key: a failed delivery of a `block` endpoint keeps holding its key.
-- The new columns are nullable or have a constant default: no row is rewritten, and every
-- existing delivery reads as one without a key.
ALTER TABLE webhook_endpoints
  ADD COLUMN on_failure text NOT NULL DEFAULT 'skip' CHECK (on_failure IN ('skip', 'block'));

ALTER TABLE webhook_deliveries
  ADD COLUMN ordering_key text,
  ADD COLUMN holds_key    boolean NOT NULL DEFAULT false;

ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_status_check;
ALTER TABLE webhook_deliveries
  ADD CONSTRAINT webhook_deliveries_status_check
  CHECK (status IN ('pending', 'succeeded', 'retrying', 'failed', 'held'));

-- The unfinished deliveries of each (endpoint, key) in event order: the head of a key is the
-- first row here, and only the head may be attempted. Small: finished rows leave it.
CREATE INDEX webhook_deliveries_key_order_idx
  ON webhook_deliveries (endpoint_id, ordering_key, event_seq)
  WHERE ordering_key IS NOT NULL
    AND (status IN ('pending', 'retrying', 'held') OR (status = 'failed' AND holds_key));

-- Down Migration
DROP INDEX webhook_deliveries_key_order_idx;
-- a held delivery has no message: queue it for the dispatcher, as a manual retry would be
UPDATE webhook_deliveries
   SET status = 'pending', token = gen_random_uuid()::text, dispatch_requested_at = now(),
       next_attempt_at = now()
 WHERE status = 'held';
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_status_check;
ALTER TABLE webhook_deliveries
  ADD CONSTRAINT webhook_deliveries_status_check
  CHECK (status IN ('pending', 'succeeded', 'retrying', 'failed'));
ALTER TABLE webhook_deliveries DROP COLUMN holds_key, DROP COLUMN ordering_key;
ALTER TABLE webhook_endpoints DROP COLUMN on_failure;
