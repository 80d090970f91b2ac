-- Up Migration

-- Which claim holds an in-progress Idempotency-Key: "<process id>/<claim number>". A process
-- knows which of its own claims are still running, so a key it claimed for a request that has
-- already failed (its release lost to a database outage) is free again at once, not only after
-- IDEMPOTENCY_LOCK_TIMEOUT_SECONDS; a release deletes only its own claim.
ALTER TABLE idempotency_keys ADD COLUMN locked_by text;

-- Down Migration
ALTER TABLE idempotency_keys DROP COLUMN locked_by;
