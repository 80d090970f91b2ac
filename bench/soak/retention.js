/**
 * The retention settings of the soak: every RETENTION_* key that a built service's config shape
 * reads (so a build without retention runs without it, and says so), set to minutes:
 * periods to `seconds` (webhook deliveries and attempts to at least 5 minutes, past the 2-minute
 * retry tier), the partition width to SOAK_PARTITION_SECONDS (120 s) and the sweep interval to
 * 30 s, so that
 * whole partitions expire several times within a 20-minute run. Bounds (`…_MIN_…`, `…_MAX_…`)
 * keep their defaults unless a period would fall outside them (then the bound is moved).
 */
const fs = require('node:fs');
const path = require('node:path');
const h = require('../lib/harness');
const { STACK_SERVICES } = require('../../scripts/stack-services');

const PARTITION_SECONDS = Number(process.env.SOAK_PARTITION_SECONDS ?? 120);
const INTERVAL_SECONDS = 30;
const ATTEMPTS_MIN_SECONDS = 300;

/** The variable names the built services' config shapes read. */
function builtConfigKeys() {
  const keys = new Set();
  for (const service of STACK_SERVICES) {
    for (const candidate of service.config) {
      const file = path.join(
        h.ROOT,
        service.dir,
        `${candidate.replace(/(^|\/)src\//, '$1dist/')}.js`,
      );
      if (!fs.existsSync(file)) continue;
      const mod = require(file);
      const name = Object.keys(mod).find((key) => key.endsWith('ConfigShape'));
      if (name) for (const key of Object.keys(mod[name])) keys.add(key);
    }
  }
  return keys;
}

/** { env: { KEY: value }, applied: ['KEY=value', …] } for a retention period of `seconds`. */
function retentionSettings(seconds) {
  const env = {};
  for (const key of [...builtConfigKeys()].filter((k) => k.startsWith('RETENTION_')).sort()) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
    else if (/PARTITION/.test(key)) env[key] = String(PARTITION_SECONDS);
    else if (/INTERVAL/.test(key)) env[key] = String(INTERVAL_SECONDS);
    else if (/_MIN_/.test(key)) env[key] = String(Math.min(60, seconds));
    else if (/_MAX_/.test(key)) continue;
    // deliveries must outlive the retry tiers they still wait in (5 s, 30 s, 2 min, …)
    else if (key === 'RETENTION_ATTEMPTS_SECONDS')
      env[key] = String(Math.max(seconds, ATTEMPTS_MIN_SECONDS));
    else if (/_SECONDS$/.test(key)) env[key] = String(seconds);
  }
  // the migrations create the first partitions (packages/store migrate, which reads the width
  // from the environment too): a first partition of a day would hold the whole run
  if (Object.keys(env).length > 0 && env.RETENTION_PARTITION_SECONDS === undefined)
    env.RETENTION_PARTITION_SECONDS =
      process.env.RETENTION_PARTITION_SECONDS ?? String(PARTITION_SECONDS);
  return { env, applied: Object.entries(env).map(([k, v]) => `${k}=${v}`) };
}

module.exports = { retentionSettings };
