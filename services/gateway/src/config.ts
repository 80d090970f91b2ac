import { z } from 'zod';
import {
  boolVar,
  httpConfig,
  intVar,
  loadConfig,
  logConfig,
  postgresConfig,
  rabbitConfig,
  redisConfig,
  tracingConfig,
} from '@reten/config';
import { authConfig, checkAuthConfig } from '@reten/auth';
import { brokerReadinessConfig, relayConfig } from '@reten/relay';
import { retentionConfig } from '@reten/store';

/** Every variable the gateway reads, with its default and meaning. */
export const gatewayConfigShape = {
  PORT: intVar(8080, 0, 65535, 'HTTP port of the API'),
  ...httpConfig,
  ...logConfig,
  ...postgresConfig,
  ...rabbitConfig,
  ...authConfig,
  ...redisConfig,
  ...retentionConfig,
  ...tracingConfig,
  RATE_LIMIT_ENABLED: boolVar(true, 'Apply the REST and ingest rate limits (Redis counters)'),
  RATE_LIMIT_REST_REQUESTS: intVar(
    1000,
    1,
    10_000_000,
    'REST requests per API key per window (a tenant setting overrides, per minute)',
  ),
  RATE_LIMIT_REST_WINDOW_SECONDS: intVar(60, 1, 86_400, 'Fixed window of the REST limit'),
  RATE_LIMIT_INGEST_REQUESTS: intVar(
    50_000,
    1,
    100_000_000,
    'Ingest requests (EVCI, POST /api/v1/events) per tenant per window (a tenant setting overrides, per second)',
  ),
  RATE_LIMIT_INGEST_WINDOW_SECONDS: intVar(1, 1, 86_400, 'Fixed window of the ingest limit'),
  RATE_LIMIT_LEASE_BLOCKS: intVar(
    40,
    1,
    10_000,
    "A gateway takes a window's rate-limit tokens from Redis in blocks of limit / this (at least 1) and decides in memory until they are used: each replica may leave up to one block of a limit unused",
  ),
  RATE_LIMIT_REDIS_TIMEOUT_MS: intVar(
    250,
    10,
    60_000,
    'Longest wait for a rate-limit counter; past it the request passes (fail open)',
  ),
  RETEN_BOOTSTRAP_API_KEY: z
    .string()
    .default('')
    .describe('bootstrap: the development key to create (rtn_ format); empty = generate one'),
  RETEN_HOME: z
    .string()
    .default('')
    .describe('bootstrap: directory of dev-api-key; empty = .reten at the repository root'),
  TENANT_LIMITS_CACHE_TTL_MS: intVar(
    10_000,
    0,
    3_600_000,
    'How long a replica caches a tenant’s own limits (changes through it apply at once)',
  ),
  HTTP_HEADERS_TIMEOUT_MS: intVar(
    20_000,
    1000,
    600_000,
    'Longest wait for the request headers; past it the client gets 408 and the connection closes',
  ),
  HTTP_REQUEST_TIMEOUT_MS: intVar(
    60_000,
    1000,
    3_600_000,
    'Longest wait for a whole request, body included; past it the client gets 408 and the connection closes',
  ),
  BODY_LIMIT_BYTES: intVar(
    1_048_576,
    1024,
    64 * 1_048_576,
    'Largest accepted request body; larger ones get 413',
  ),
  EVENT_SCHEMA_POLL_INTERVAL_MS: intVar(
    5000,
    50,
    600_000,
    'How often registered eworker schemas are reloaded when no NOTIFY arrives',
  ),
  MIGRATE_ON_START: boolVar(true, 'Apply pending migrations at start (safe with many replicas)'),
  INGEST_MAX_BATCH: intVar(500, 1, 10_000, 'Most events committed in one group-commit transaction'),
  INGEST_MAX_CONCURRENT_FLUSHES: intVar(
    1,
    1,
    64,
    "Group-commit transactions in flight at once per process; each takes the stream-position counter's row lock until it commits, so more than one only splits batches (measured: 0.35 → 0.21 commits per event at saturation)",
  ),
  RELAY_ENABLED: boolVar(
    true,
    "Run the outbox relay in this process too; the stack runs it as its own process (services/relay) and sets false here, which keeps publishing off the API's event loop",
  ),
  ...relayConfig,
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
  ...brokerReadinessConfig,
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

/**
 * Parses the gateway's environment; throws ConfigError naming each bad variable. `tokens:
 * false` skips the JWT checks, for the bootstrap, which neither signs nor verifies a token.
 */
export function loadGatewayConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { tokens?: boolean } = {},
) {
  const config = loadConfig(gatewayConfigShape, env);
  if (options.tokens !== false) checkAuthConfig(config, { signs: true });
  return config;
}
