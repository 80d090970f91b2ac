-- Up Migration

-- Retention deletes the per-minute attempt counts older than the attempts they counted, by
-- minute across all endpoints: this index keeps those deletes to the rows they remove.
CREATE INDEX webhook_attempt_counts_minute_idx ON webhook_attempt_counts (minute);

-- Down Migration
DROP INDEX webhook_attempt_counts_minute_idx;
