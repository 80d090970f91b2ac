import {
  boolVar,
  httpConfig,
  intVar,
  loadConfig,
  logConfig,
  postgresConfig,
  rabbitConfig,
} from '@reten/config';
import { authConfig } from '@reten/auth';

/** Every variable the gateway reads, with its default and meaning. */
export const gatewayConfigShape = {
  PORT: intVar(8080, 0, 65535, 'HTTP port of the API'),
  ...httpConfig,
  ...logConfig,
  ...postgresConfig,
  ...rabbitConfig,
  ...authConfig,
  BODY_LIMIT_BYTES: intVar(
    1_048_576,
    1024,
    64 * 1_048_576,
    'Largest accepted request body; larger ones get 413',
  ),
  MIGRATE_ON_START: boolVar(true, 'Apply pending migrations at start (safe with many replicas)'),
  INGEST_MAX_BATCH: intVar(500, 1, 10_000, 'Most events committed in one group-commit transaction'),
  INGEST_MAX_CONCURRENT_FLUSHES: intVar(
    2,
    1,
    64,
    'Group-commit transactions in flight at once per process',
  ),
  RELAY_BATCH_SIZE: intVar(
    500,
    1,
    10_000,
    'Most events the outbox relay publishes per confirm round',
  ),
  RELAY_POLL_INTERVAL_MS: intVar(1000, 10, 60_000, 'Relay polling fallback when no NOTIFY arrives'),
  RELAY_LOCK_RETRY_MS: intVar(
    1000,
    50,
    60_000,
    'How often a standby relay tries to become the active one',
  ),
  RELAY_CONFIRM_TIMEOUT_MS: intVar(
    10_000,
    100,
    600_000,
    'How long the relay waits for publisher confirms',
  ),
  RELAY_RETRY_DELAY_MS: intVar(500, 10, 60_000, 'Pause before the relay retries a failed publish'),
  IDEMPOTENCY_KEY_TTL_SECONDS: intVar(
    86_400,
    60,
    30 * 86_400,
    'How long an Idempotency-Key is remembered',
  ),
  IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: intVar(
    60,
    1,
    3600,
    'After this, an unfinished Idempotency-Key request counts as dead',
  ),
  READY_REQUIRES_BROKER: boolVar(
    true,
    '`/readyz` fails while RabbitMQ is unreachable (ingest itself keeps answering 202 either way)',
  ),
  WEBHOOK_ALLOW_PRIVATE: boolVar(
    false,
    'Accept webhook URLs on loopback/private/link-local addresses, and http (local stack and tests only)',
  ),
  WEBHOOK_ALLOW_HTTP: boolVar(false, 'Accept http:// webhook URLs (https only otherwise)'),
  WEBHOOK_SECRET_GRACE_PERIOD_SECONDS: intVar(
    86_400,
    0,
    7 * 86_400,
    'Default time a rotated webhook secret keeps signing alongside the new one',
  ),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

/** Parses the gateway's environment; throws ConfigError naming each bad variable. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(gatewayConfigShape, env);
}
