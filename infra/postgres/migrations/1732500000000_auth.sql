-- Up Migration

-- Tenants own every event, key, webhook and stream. Limits: NULL = the deployment default.
CREATE TABLE tenants (
  id                       text        PRIMARY KEY,
  name                     text        NOT NULL,
  rest_requests_per_minute integer     CHECK (rest_requests_per_minute > 0),
  ingest_events_per_second integer     CHECK (ingest_events_per_second > 0),
  created_at               timestamptz NOT NULL DEFAULT now()
);

-- API keys: the secret is `rtn_<hex id>_<secret>`; only its SHA-256 is stored.
CREATE TABLE api_keys (
  id           text        PRIMARY KEY,
  tenant_id    text        NOT NULL,
  name         text        NOT NULL,
  key_hash     bytea       NOT NULL,
  scopes       text[]      NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at DESC) WHERE revoked_at IS NULL;

-- Down Migration
DROP TABLE api_keys;
DROP TABLE tenants;
