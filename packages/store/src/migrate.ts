import path from 'node:path';
import { Client } from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from '@reten/observability';
import { createPool } from './pool';
import { ensurePartitionsAhead } from './retention/retention-runner';

export const DEFAULT_MIGRATIONS_DIR = path.resolve(__dirname, '../../../infra/postgres/migrations');

export interface MigrateOptions {
  databaseUrl: string;
  schema: string;
  log: Logger;
  dir?: string;
  /** Apply only this many pending migrations (tests of a conversion stop before it). */
  count?: number;
  /**
   * The size of the time partitions created after the migrations (RETENTION_PARTITION_SECONDS);
   * undefined: the size of the newest partition, a week on a fresh database. The retention
   * runner creates the later ones.
   */
  partitionSeconds?: number;
}

const DATABASE_MISSING = '3D000';
const DATABASE_EXISTS = '42P04';
// two concurrent CREATE DATABASE of one name: the loser may see the catalog's unique index
const UNIQUE_VIOLATION = '23505';

function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/** Creates the database named in the URL when it does not exist yet. */
async function ensureDatabase(databaseUrl: string, log: Logger): Promise<void> {
  const probe = new Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if (pgCode(err) !== DATABASE_MISSING) throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    log.info({ database: name }, 'database created');
  } catch (err) {
    const code = pgCode(err);
    if (code !== DATABASE_EXISTS && code !== UNIQUE_VIOLATION) throw err;
  } finally {
    await admin.end();
  }
}

/**
 * Applies pending migrations to `schema`. Safe to run from many processes at once: each
 * waits on a blocking advisory lock (node-pg-migrate's own lock fails instead of waiting).
 */
export async function runMigrations(options: MigrateOptions): Promise<string[]> {
  await ensureDatabase(options.databaseUrl, options.log);
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['reten.migrate']);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    const applied = await runner({
      dbClient: client,
      dir: options.dir ?? DEFAULT_MIGRATIONS_DIR,
      schema: options.schema,
      migrationsTable: 'pgmigrations',
      direction: 'up',
      count: options.count ?? Infinity,
      noLock: true,
      checkOrder: true,
      log: (msg: string) => options.log.debug({ msg }, 'migration'),
    });
    const names = applied.map((m) => m.name);
    if (options.count === undefined) await ensureAfterMigrations(options);
    options.log.info({ schema: options.schema, applied: names }, 'migrations done');
    return names;
  } finally {
    await client
      .query('SELECT pg_advisory_unlock(hashtext($1))', ['reten.migrate'])
      .catch(() => undefined);
    await client.end();
  }
}

/** Partitions from now on exist as soon as the migrations are done, before any service writes. */
async function ensureAfterMigrations(options: MigrateOptions): Promise<void> {
  const pool = createPool({
    databaseUrl: options.databaseUrl,
    schema: options.schema,
    max: 1,
    statementTimeoutMs: 60_000,
    applicationName: 'reten-migrate',
  });
  try {
    await ensurePartitionsAhead(pool, options.schema, {
      partitionSeconds: options.partitionSeconds,
      intervalSeconds: 0,
      lockTimeoutMs: 10_000,
    });
  } finally {
    await pool.end();
  }
}
