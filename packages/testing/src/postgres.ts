import { Pool } from 'pg';
import { runMigrations } from '@reten/store';
import type { Logger } from '@reten/observability';
import { testServers } from './servers';
import { uniqueName } from './names';
import { silentLogger } from './silent-logger';

export interface TestSchema {
  schema: string;
  databaseUrl: string;
  /** A pool whose search_path is the test's schema. */
  pool: Pool;
  drop(): Promise<void>;
}

export interface TestSchemaOptions {
  /** Apply Reten's migrations into the schema (default true). */
  migrate?: boolean;
  log?: Logger;
}

/** A fresh PostgreSQL schema for one test (file), migrated, dropped by `drop()`. */
export async function createTestSchema(
  title: string,
  options: TestSchemaOptions = {},
): Promise<TestSchema> {
  const { databaseUrl } = await testServers();
  const schema = uniqueName(title);
  if (options.migrate !== false) {
    await runMigrations({ databaseUrl, schema, log: options.log ?? silentLogger() });
  }
  const pool = new Pool({
    connectionString: databaseUrl,
    max: 5,
    options: `-c search_path="${schema}"`,
  });
  return {
    schema,
    databaseUrl,
    pool,
    drop: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}
