export { ConfigError, OWN_PREFIX, configTable, loadConfig } from './load-config';
export type { ConfigShape } from './load-config';
export {
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
