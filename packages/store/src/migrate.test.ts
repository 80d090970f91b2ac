import { readdirSync } from 'node:fs';
import { Client } from 'pg';
import { createTestSchema, silentLogger, testServers, uniqueName } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrate';

const allMigrations = readdirSync(DEFAULT_MIGRATIONS_DIR)
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.replace(/\.sql$/, ''))
  .sort();

describe('runMigrations', () => {
  let schema: TestSchema;

  beforeEach(async () => {
    schema = await createTestSchema('migrations concurrent', { migrate: false });
  });

  afterEach(async () => {
    await schema?.drop();
  });

  it('applies every migration once when several processes run it at the same time, and a rerun is a no-op', async () => {
    const run = () =>
      runMigrations({
        databaseUrl: schema.databaseUrl,
        schema: schema.schema,
        log: silentLogger(),
      });
    const results = await Promise.all([run(), run(), run(), run()]);

    const applied = results.flat().sort();
    expect(applied).toEqual(allMigrations);
    expect(results.filter((r) => r.length > 0)).toHaveLength(1);
    const recorded = await schema.pool.query<{ name: string }>(
      'SELECT name FROM pgmigrations ORDER BY name',
    );
    expect(recorded.rows.map((r) => r.name)).toEqual(allMigrations);
    const tables = await schema.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`,
      [schema.schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['events', 'idempotency_keys', 'pgmigrations']),
    );

    expect(await run()).toEqual([]);
    const again = await schema.pool.query('SELECT name FROM pgmigrations');
    expect(again.rowCount).toBe(allMigrations.length);
  });

  it('creates the database named in the URL when it does not exist, also from several processes at once', async () => {
    const { databaseUrl } = await testServers();
    const url = new URL(databaseUrl);
    const name = uniqueName('migrate fresh db');
    url.pathname = `/${name}`;
    const run = () =>
      runMigrations({ databaseUrl: url.toString(), schema: 'reten', log: silentLogger() });
    try {
      const results = await Promise.all([run(), run(), run()]);
      expect(results.flat().sort()).toEqual(allMigrations);
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      const res = await client.query('SELECT count(*)::int AS n FROM reten.pgmigrations');
      await client.end();
      expect(res.rows).toEqual([{ n: allMigrations.length }]);
    } finally {
      const admin = new Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});
