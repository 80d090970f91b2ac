import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@reten/config';
import { createLogger } from '@reten/observability';
import { createPool, runMigrations } from '@reten/store';
import { bootstrapDevKey } from './access/bootstrap';
import { loadGatewayConfig } from './config';

const USAGE = `usage: bootstrap [--tenant <id>] [--rest-requests-per-minute <n>|default]
                 [--ingest-events-per-second <n>|default]
Ensures the tenant (default dev) and an API key of it with every scope, prints the key and
writes it to $RETEN_HOME/<tenant>-api-key (default .reten/dev-api-key). RETEN_BOOTSTRAP_API_KEY
sets the dev tenant's key. Running it again keeps the key.`;

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function limitArg(value: string | undefined, name: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError([`--${name}: must be a positive integer or "default"`]);
  return n;
}

/** `pnpm bootstrap`: the dev tenant and its key (the stack's start runs this). */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string', default: 'dev' },
      'rest-requests-per-minute': { type: 'string' },
      'ingest-events-per-second': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!TENANT_ID.test(values.tenant)) {
    throw new ConfigError(['--tenant: lower-case letters, digits, "-" or "_" (at most 63)']);
  }
  // only rows of PostgreSQL: runs with the published development JWT_SECRET too
  const config = loadGatewayConfig(process.env, { tokens: false });
  const rest = limitArg(values['rest-requests-per-minute'], 'rest-requests-per-minute');
  const ingest = limitArg(values['ingest-events-per-second'], 'ingest-events-per-second');
  const log = createLogger({ service: 'bootstrap', level: config.LOG_LEVEL });
  await runMigrations({ databaseUrl: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, log });
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    max: 1,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    applicationName: 'reten-bootstrap',
  });
  try {
    const keyFile = path.join(
      config.RETEN_HOME || path.resolve(__dirname, '../../../.reten'),
      `${values.tenant}-api-key`,
    );
    const result = await bootstrapDevKey({
      pool,
      schema: config.DATABASE_SCHEMA,
      tenantId: values.tenant,
      // RETEN_BOOTSTRAP_API_KEY is the development key: the dev tenant's only
      presetKey: (values.tenant === 'dev' && config.RETEN_BOOTSTRAP_API_KEY) || undefined,
      keyFile,
      limits: {
        ...(rest === undefined ? {} : { restRequestsPerMinute: rest }),
        ...(ingest === undefined ? {} : { ingestEventsPerSecond: ingest }),
      },
    });
    log.info(
      { tenant: values.tenant, keyId: result.keyId, created: result.created, keyFile },
      'bootstrap done',
    );
    process.stdout.write(
      `${result.created ? 'Created' : 'Kept'} API key ${result.keyId} of tenant ${values.tenant} (every scope), written to ${keyFile}:\n${result.key}\n`,
    );
  } finally {
    await pool.end();
    log.flush();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bootstrap: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
