import { Pool } from 'pg';
import type { PoolConfig } from 'pg';
import type { ReadinessCheck } from '@reten/observability';

export interface PoolOptions {
  databaseUrl: string;
  schema: string;
  max: number;
  statementTimeoutMs: number;
  applicationName: string;
  /** Session settings of every connection (`name` → `value`), on top of the schema and timeout. */
  settings?: Record<string, string>;
}

/** How much longer than `statement_timeout` a query may take before the client gives up. */
const QUERY_TIMEOUT_MARGIN_MS = 2_000;

/** Client settings shared by the pool and dedicated connections (LISTEN, advisory locks). */
export function clientConfig(options: PoolOptions): PoolConfig {
  return {
    connectionString: options.databaseUrl,
    // schema is validated as a plain identifier by the config schema
    options: [
      `-c search_path="${options.schema}" -c statement_timeout=${options.statementTimeoutMs}`,
      ...Object.entries(options.settings ?? {}).map(([name, value]) => `-c ${name}=${value}`),
    ].join(' '),
    application_name: options.applicationName,
    connectionTimeoutMillis: 5_000,
    // statement_timeout is enforced by the server; a server that stops answering (a stalled
    // connection) is caught on this side a little later, so no query waits forever
    query_timeout: options.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    keepAlive: true,
  };
}

/** A pg pool whose connections use the Reten schema. */
export function createPool(options: PoolOptions): Pool {
  return new Pool({ ...clientConfig(options), max: options.max, idleTimeoutMillis: 30_000 });
}

export type { Pool, PoolClient } from 'pg';

/** The `/readyz` check of a pool: PostgreSQL answers a query. */
export function postgresCheck(pool: Pool): ReadinessCheck {
  return { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) };
}
