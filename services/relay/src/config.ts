import {
  httpConfig,
  intVar,
  loadConfig,
  logConfig,
  postgresConfig,
  rabbitConfig,
  tracingConfig,
} from '@reten/config';
import { brokerReadinessConfig, relayConfig } from '@reten/relay';

/**
 * Every variable the relay process reads: the RELAY_* settings come from @reten/relay, the same
 * shape the gateway spreads in (one meaning whichever process runs the relay).
 */
export const relayConfigShape = {
  PORT: intVar(8084, 0, 65535, 'HTTP port of /healthz, /readyz and /metrics'),
  ...httpConfig,
  ...logConfig,
  ...postgresConfig,
  ...rabbitConfig,
  ...tracingConfig,
  DATABASE_POOL_SIZE: intVar(4, 1, 500, 'Connections in the pool of the relay process'),
  ...relayConfig,
  ...brokerReadinessConfig,
};

export type RelayConfig = ReturnType<typeof loadRelayConfig>;

/** Parses the relay's environment; throws ConfigError naming each bad variable. */
export function loadRelayConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(relayConfigShape, env);
}
