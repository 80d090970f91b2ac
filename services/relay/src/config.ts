import {
  httpConfig,
  intVar,
  loadConfig,
  logConfig,
  postgresConfig,
  rabbitConfig,
  tracingConfig,
} from '@reten/config';
import { gatewayConfigShape as gateway } from '@reten/gateway/dist/config';

/**
 * Every variable the relay process reads: the relay settings are the gateway's (one meaning
 * whichever process runs the relay), read here without the gateway's API settings.
 */
export const relayConfigShape = {
  PORT: intVar(8084, 0, 65535, 'HTTP port of /healthz, /readyz and /metrics'),
  ...httpConfig,
  ...logConfig,
  ...postgresConfig,
  ...rabbitConfig,
  ...tracingConfig,
  DATABASE_POOL_SIZE: intVar(4, 1, 500, 'Connections in the pool of the relay process'),
  RELAY_BATCH_SIZE: gateway.RELAY_BATCH_SIZE,
  RELAY_BATCH_MAX_BYTES: gateway.RELAY_BATCH_MAX_BYTES,
  RELAY_POLL_INTERVAL_MS: gateway.RELAY_POLL_INTERVAL_MS,
  RELAY_LOCK_RETRY_MS: gateway.RELAY_LOCK_RETRY_MS,
  RELAY_CONFIRM_TIMEOUT_MS: gateway.RELAY_CONFIRM_TIMEOUT_MS,
  RELAY_RETRY_DELAY_MS: gateway.RELAY_RETRY_DELAY_MS,
  RELAY_LINGER_MS: gateway.RELAY_LINGER_MS,
  RELAY_PROGRESS_TIMEOUT_SECONDS: gateway.RELAY_PROGRESS_TIMEOUT_SECONDS,
  READY_REQUIRES_BROKER: gateway.READY_REQUIRES_BROKER,
};

export type RelayConfig = ReturnType<typeof loadRelayConfig>;

/** Parses the relay's environment; throws ConfigError naming each bad variable. */
export function loadRelayConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(relayConfigShape, env);
}
