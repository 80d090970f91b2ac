-- Up Migration

-- Webhook endpoints, one tenant each. Secrets are stored as issued: the delivery service
-- signs with them (an HMAC needs the secret itself, a hash would not do).
CREATE TABLE webhook_endpoints (
  id                         text        PRIMARY KEY,
  tenant_id                  text        NOT NULL,
  url                        text        NOT NULL,
  description                text        NOT NULL DEFAULT '',
  event_types                text[]      NOT NULL DEFAULT '{}',
  enabled                    boolean     NOT NULL DEFAULT true,
  disabled_reason            text,
  rate_limit_per_second      integer     NOT NULL DEFAULT 100 CHECK (rate_limit_per_second > 0),
  headers                    jsonb       NOT NULL DEFAULT '{}',
  retry_schedule_seconds     integer[],
  signing                    text        NOT NULL DEFAULT 'hmac' CHECK (signing IN ('hmac', 'ed25519')),
  secret                     text,
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  public_key                 text,
  private_key                text,
  -- first failure of the current run of failures; NULL after any success
  failing_since              timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, id);

-- One row per (endpoint, event revision): `id` is the `webhook-id` of every attempt.
-- `token` names the one queued message allowed to act on the row (see services/delivery).
CREATE TABLE webhook_deliveries (
  id                    text        PRIMARY KEY,
  tenant_id             text        NOT NULL,
  endpoint_id           text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id              text        NOT NULL,
  revision              integer     NOT NULL,
  event_type            text        NOT NULL,
  event_seq             bigint      NOT NULL,
  status                text        NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'succeeded', 'retrying', 'failed')),
  attempts              integer     NOT NULL DEFAULT 0,
  token                 text,
  last_status_code      integer,
  last_error            text,
  last_attempt_at       timestamptz,
  next_attempt_at       timestamptz,
  dispatch_requested_at timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id, revision)
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (tenant_id, event_id);
-- the dispatcher's work list (manual retries and replays), small
CREATE INDEX webhook_deliveries_dispatch_idx ON webhook_deliveries (event_seq)
  WHERE dispatch_requested_at IS NOT NULL;

CREATE TABLE webhook_attempts (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id        text        NOT NULL,
  delivery_id      text        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  endpoint_id      text        NOT NULL,
  attempt          integer     NOT NULL,
  started_at       timestamptz NOT NULL,
  latency_ms       integer     NOT NULL,
  succeeded        boolean     NOT NULL,
  status_code      integer,
  phase            text,
  error            text,
  response_excerpt text
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id DESC);

-- Delivery replicas cache endpoints; a change anywhere tells them which tenant to reload.
CREATE FUNCTION reten_webhook_endpoints_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('reten_webhooks_' || TG_TABLE_SCHEMA,
                    COALESCE(NEW.tenant_id, OLD.tenant_id));
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER webhook_endpoints_notify AFTER INSERT OR UPDATE OR DELETE ON webhook_endpoints
  FOR EACH ROW EXECUTE FUNCTION reten_webhook_endpoints_notify();

-- Down Migration
DROP TRIGGER webhook_endpoints_notify ON webhook_endpoints;
DROP FUNCTION reten_webhook_endpoints_notify();
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
