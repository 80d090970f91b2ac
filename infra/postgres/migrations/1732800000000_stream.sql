-- Up Migration

-- Stream resume: "every event of this tenant after seq N, in seq order" (backfill), and the
-- tenant's newest seq (a replica's starting cursor). Without it both scan the primary key.
CREATE INDEX events_tenant_seq_idx ON events (tenant_id, seq);

-- Down Migration
DROP INDEX events_tenant_seq_idx;
