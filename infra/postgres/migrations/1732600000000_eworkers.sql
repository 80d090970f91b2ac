-- Up Migration

-- Eworkers registered at their start. Not tenant data: an eworker serves every tenant.
CREATE TABLE eworkers (
  name          text        PRIMARY KEY,
  types         text[]      NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The JSON Schema (draft 2020-12, generated from the eworker's zod schema) each eworker
-- requires of each of its types. The gateway validates an event against every schema
-- registered for its type; `version` grows on every change so caches can tell.
CREATE TABLE event_type_schemas (
  event_type  text        NOT NULL,
  eworker     text        NOT NULL REFERENCES eworkers (name) ON DELETE CASCADE,
  json_schema jsonb       NOT NULL,
  schema_hash text        NOT NULL,
  version     bigint      NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_type, eworker)
);

-- What each eworker did with each event revision, written in the same transaction as the
-- eworker's own writes. No row = pending. `processed` and `failed` (parked) are final until a
-- replay moves `failed` to `replaying`; redeliveries of a revision with a row are skipped.
CREATE TABLE eworker_marks (
  eworker      text        NOT NULL,
  event_id     text        NOT NULL,
  revision     integer     NOT NULL,
  tenant_id    text        NOT NULL,
  event_type   text        NOT NULL,
  status       text        NOT NULL CHECK (status IN ('processed', 'failed', 'replaying')),
  attempts     integer     NOT NULL DEFAULT 0,
  parked_count integer     NOT NULL DEFAULT 0,
  last_error   text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (eworker, event_id, revision)
);
CREATE INDEX eworker_marks_tenant_status_idx ON eworker_marks (tenant_id, eworker, status, updated_at);
CREATE INDEX eworker_marks_tenant_event_idx ON eworker_marks (tenant_id, event_id);

-- Down Migration
DROP TABLE eworker_marks;
DROP TABLE event_type_schemas;
DROP TABLE eworkers;
