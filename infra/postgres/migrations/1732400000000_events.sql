-- Up Migration

-- One row per revision of an event. `seq` orders the log; the relay publishes
-- unpublished rows in `seq` order (an event that got its 202 before another was
-- sent always has the smaller seq and is visible first).
CREATE TABLE events (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text        NOT NULL,
  event_id     text        NOT NULL,
  revision     integer     NOT NULL CHECK (revision >= 1),
  event_type   text        NOT NULL,
  occurred_at  timestamptz NOT NULL,
  data         jsonb       NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  is_current   boolean     NOT NULL DEFAULT true,
  CONSTRAINT events_event_revision_key UNIQUE (event_id, revision)
);

-- Exactly one current revision per event; also the index of the newest-first listing.
CREATE UNIQUE INDEX events_current_idx ON events (tenant_id, event_id) WHERE is_current;
CREATE INDEX events_current_type_idx ON events (tenant_id, event_type, event_id) WHERE is_current;
-- The relay's work list: small, because published rows leave it.
CREATE INDEX events_unpublished_idx ON events (seq) WHERE published_at IS NULL;

-- Idempotency-Key records (IETF draft-ietf-httpapi-idempotency-key-header).
CREATE TABLE idempotency_keys (
  tenant_id       text        NOT NULL,
  idempotency_key text        NOT NULL,
  request_hash    text        NOT NULL,
  state           text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response_status integer,
  response_body   jsonb,
  locked_at       timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE events;
