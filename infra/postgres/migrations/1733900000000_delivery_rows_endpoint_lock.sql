-- Up Migration

-- A delivery row and an attempt no longer check a foreign key to their endpoint, one row at a
-- time: the check cost ~7 µs of PostgreSQL per delivery on the delivery service's hot path
-- (two rows per delivery, each an SPI query that locks the endpoint's row), and it failed the
-- whole batch of outcomes when one endpoint was deleted while its request was in flight, so
-- that batch was retried forever. Instead:
-- - the statements that insert delivery rows lock their endpoints once per batch (FOR KEY
--   SHARE, the lock a foreign key check takes) and insert rows only for the endpoints they
--   find; attempts are inserted only for delivery rows the same statement updated or inserted;
-- - deleting an endpoint deletes its delivery rows and attempts in the same transaction
--   (WebhookEndpointRepo.delete), as the cascade did. Its DELETE waits for a batch holding
--   the lock, and a batch after it no longer finds the endpoint.
-- The per-endpoint counts keep their foreign keys: one row per endpoint and minute.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey;
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_endpoint_id_fkey;

-- Down Migration
DELETE FROM webhook_attempts a
 WHERE NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = a.endpoint_id);
DELETE FROM webhook_deliveries d
 WHERE NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey
  FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE;
ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_endpoint_id_fkey
  FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE;
