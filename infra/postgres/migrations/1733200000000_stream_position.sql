-- Up Migration

-- The stream position of a revision: assigned by the outbox relay just before it publishes,
-- in the order it publishes (one leader, so publish order is one total order). `seq` is taken
-- at INSERT, and two transactions can commit in the other order than their seqs: a smaller seq
-- can become visible after a larger one was published. Stream resume goes by this position, so
-- "after X" means the same thing live and in a backfill. NULL until the relay takes the row.
ALTER TABLE events ADD COLUMN stream_position bigint;

-- The last position handed out. A single row, updated by the relay's assignment statement: its
-- row lock also serializes two relays during a leadership hand-over, so positions become visible
-- in increasing order, without gaps.
CREATE TABLE stream_position_counter (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_position bigint  NOT NULL
);

-- Rows published before this migration keep working: they get positions in seq order (the order
-- the relay published them in, as far as it is known). Unpublished rows get theirs from the relay.
UPDATE events e
   SET stream_position = p.position
  FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS position
          FROM events WHERE published_at IS NOT NULL) AS p
 WHERE e.seq = p.seq;

INSERT INTO stream_position_counter (last_position)
SELECT coalesce(max(stream_position), 0) FROM events;

ALTER TABLE events ADD CONSTRAINT events_stream_position_key UNIQUE (stream_position);

-- Stream resume: "every event of this tenant after position N, in position order" (backfill),
-- and the tenant's newest position (a replica's starting cursor).
CREATE INDEX events_tenant_stream_position_idx ON events (tenant_id, stream_position);

-- The relay's work list in publish order: rows it positioned but did not get confirmed first
-- (a republished batch keeps its positions and its order), then new rows in seq order.
DROP INDEX events_unpublished_idx;
CREATE INDEX events_unpublished_idx ON events (stream_position NULLS LAST, seq)
  WHERE published_at IS NULL;

-- Down Migration
DROP INDEX events_unpublished_idx;
CREATE INDEX events_unpublished_idx ON events (seq) WHERE published_at IS NULL;
DROP INDEX events_tenant_stream_position_idx;
ALTER TABLE events DROP CONSTRAINT events_stream_position_key;
DROP TABLE stream_position_counter;
ALTER TABLE events DROP COLUMN stream_position;
