export { ConfigError, OWN_PREFIX, configTable, loadConfig } from './load-config';
export type { ConfigShape } from './load-config';
export {
  DATABASE_STATEMENT_TIMEOUT_MAX_MS,
  boolVar,
  httpConfig,
  intVar,
  logConfig,
  postgresConfig,
  rabbitConfig,
  redisConfig,
  tracingConfig,
  urlVar,
} from './common';
export { packageVersion } from './package-version';
