-- Up Migration

-- The relay's published mark without rewriting events. The relay used to set
-- `events.published_at` on every row it got confirmed: a second write of each event (a new row
-- version and an entry in each of the table's indexes: half of the WAL an event cost), and the
-- partial index on `published_at IS NULL` it needed to find the outbox.
--
-- Positions are taken under the counter's row lock, held until the commit, so the visible
-- positions are always 1..N without a hole, and the relay publishes them in that order. So one
-- number says what is published: every position up to the newest round's `last_position`. Each
-- confirmed round adds one row here (when, and up to where); an event's published time is its
-- round's. Rows without a position (revisions, system events: the relay numbers them before it
-- publishes them) are unpublished.
CREATE TABLE published_rounds (
  last_position bigint      PRIMARY KEY,
  published_at  timestamptz NOT NULL DEFAULT now()
);

-- Up to where the relay had published before this migration: below the oldest positioned row
-- it had not got confirmed (those are republished: at least once, consumers dedupe), else up to
-- the newest published one. Those rows keep their `published_at`.
INSERT INTO published_rounds (last_position)
SELECT coalesce(
         (SELECT min(stream_position) - 1 FROM events
           WHERE published_at IS NULL AND stream_position IS NOT NULL),
         (SELECT max(stream_position) FROM events WHERE published_at IS NOT NULL),
         0);

COMMENT ON COLUMN events.published_at IS
  'Set only by relays before the published_rounds migration; read reten_published_at()';

-- Up to which stream position every revision is published: the newest mark (0 before any).
-- The one definition of "published" every reader uses.
CREATE FUNCTION reten_published_through() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce(max(last_position), 0) FROM published_rounds
$$;

-- When the revision at `p_position` was published (null: not yet). `p_marked` is its own
-- `published_at`, set on rows published before this migration.
CREATE FUNCTION reten_published_at(p_position bigint, p_marked timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT coalesce(p_marked,
                  (SELECT r.published_at FROM published_rounds r
                    WHERE r.last_position >= p_position
                    ORDER BY r.last_position LIMIT 1))
$$;

-- What the relay owes the broker, for operators and the outbox gauges: positioned past the
-- newest round, or not positioned yet. Both parts go by each partition's unique index on
-- stream_position (a btree finds its nulls too).
CREATE VIEW outbox AS
SELECT e.seq, e.tenant_id, e.event_id, e.revision, e.event_type, e.received_at, e.stream_position
  FROM events e
 WHERE e.stream_position > reten_published_through()
UNION ALL
SELECT e.seq, e.tenant_id, e.event_id, e.revision, e.event_type, e.received_at, e.stream_position
  FROM events e
 WHERE e.stream_position IS NULL;

-- The relay finds its rows by the same indexes; no index names published_at any more, and
-- publishing a positioned event no longer writes it.
DROP INDEX events_unpublished_idx;

-- Down Migration
UPDATE events SET published_at = reten_published_at(stream_position, NULL)
 WHERE published_at IS NULL AND stream_position IS NOT NULL
   AND stream_position <= reten_published_through();
CREATE INDEX events_unpublished_idx ON events (stream_position NULLS LAST, seq)
  WHERE published_at IS NULL;
DROP VIEW outbox;
DROP FUNCTION reten_published_at(bigint, timestamptz);
DROP FUNCTION reten_published_through();
DROP TABLE published_rounds;
