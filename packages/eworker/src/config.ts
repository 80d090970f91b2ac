import {
  boolVar,
  httpConfig,
  intVar,
  loadConfig,
  logConfig,
  postgresConfig,
  rabbitConfig,
  tracingConfig,
} from '@reten/config';
import type { ConfigShape } from '@reten/config';
import type { z } from 'zod';

/** Every variable an eworker reads, with its default and meaning (the SDK's part). */
export const eworkerConfigShape = {
  PORT: intVar(8083, 0, 65535, 'HTTP port of /healthz, /readyz and /metrics'),
  ...httpConfig,
  ...logConfig,
  ...postgresConfig,
  ...rabbitConfig,
  ...tracingConfig,
  MIGRATE_ON_START: boolVar(true, 'Apply pending migrations at start (safe with many replicas)'),
  EWORKER_PREFETCH: intVar(
    1000,
    1,
    10_000,
    'Unacked messages the broker sends ahead; handled one after another, in order',
  ),
  EWORKER_MAX_BATCH: intVar(
    500,
    1,
    10_000,
    'Most events handled in one PostgreSQL transaction (their marks commit together)',
  ),
  EWORKER_MAX_ATTEMPTS: intVar(
    5,
    1,
    100,
    'Tries of a throwing handler before its event is parked (later events wait meanwhile)',
  ),
  EWORKER_RETRY_BASE_MS: intVar(200, 1, 600_000, 'Backoff before the 2nd try; doubles each time'),
  EWORKER_RETRY_MAX_MS: intVar(30_000, 1, 3_600_000, 'Longest backoff between two tries'),
  EWORKER_PARK_CONFIRM_TIMEOUT_MS: intVar(
    10_000,
    100,
    600_000,
    'How long parking waits for the broker to confirm the parked copy',
  ),
};

/** The SDK's config: what `EworkerService` needs. */
export type EworkerConfig = z.infer<z.ZodObject<typeof eworkerConfigShape>>;

/**
 * Parses an eworker's environment with `shape` (the SDK's keys by default; a service passes
 * its own superset, e.g. another PORT default). Throws ConfigError naming each bad variable.
 */
export function loadEworkerConfig(
  env: NodeJS.ProcessEnv = process.env,
  shape: ConfigShape = eworkerConfigShape,
): EworkerConfig {
  const parsed: unknown = loadConfig({ ...eworkerConfigShape, ...shape }, env);
  return parsed as EworkerConfig;
}
