import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { runner } from 'node-pg-migrate';
import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { newEventId, newPrefixedId } from './ids';
import { DEFAULT_MIGRATIONS_DIR } from './migrate';
import { AttemptTimelineRepo } from './webhooks/attempt-timeline';
import { WebhookDeliveryRepo } from './webhooks/delivery-repo';

const COUNTERS = '1733600000000_stats_counters';
const DELTAS = '1734000000000_webhook_count_deltas';

describe(`migration ${COUNTERS}`, () => {
  let schema: TestSchema;
  let before: string;
  let withCounters: string;

  beforeAll(async () => {
    schema = await createTestSchema('stats counters migration', { migrate: false });
    // the migrations up to the counters, as a database made by the previous schema has them,
    // without the partitioning of the big tables (1733500000000…): the counters do not depend
    // on it and are checked on the tables as they were
    before = mkdtempSync(path.join(tmpdir(), 'reten-migrations-'));
    withCounters = mkdtempSync(path.join(tmpdir(), 'reten-migrations-'));
    for (const file of readdirSync(DEFAULT_MIGRATIONS_DIR)) {
      if (!file.endsWith('.sql') || file >= COUNTERS) continue;
      if (file.startsWith('17335')) continue;
      symlinkSync(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(before, file));
      symlinkSync(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(withCounters, file));
    }
    // and the table of count deltas, which today's readers of the counts add
    for (const name of [COUNTERS, DELTAS]) {
      const file = `${name}.sql`;
      symlinkSync(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(withCounters, file));
    }
  });

  afterAll(async () => {
    rmSync(before, { recursive: true, force: true });
    rmSync(withCounters, { recursive: true, force: true });
    await schema?.drop();
  });

  it('counts the marks and attempts stored before it, so the stats do not start from zero', async () => {
    // node-pg-migrate straight, as runMigrations calls it: only the migrations of `dir`
    const migrate = async (dir: string): Promise<string[]> => {
      const client = new Client({ connectionString: schema.databaseUrl });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.schema}"`);
        const applied = await runner({
          dbClient: client,
          dir,
          schema: schema.schema,
          migrationsTable: 'pgmigrations',
          direction: 'up',
          count: Infinity,
          noLock: true,
          checkOrder: true,
          log: () => undefined,
        });
        return applied.map((m) => m.name);
      } finally {
        await client.end();
      }
    };
    await migrate(before);
    const q = (sql: string, params: unknown[] = []) => schema.pool.query(sql, params);
    // recent rows: whatever the tables' layout before, they hold today's rows
    const t0 = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
    const ids = [newEventId(), newEventId(), newEventId(), newEventId()];
    const at = (minutes: number, seconds = 0) =>
      new Date(t0.getTime() + (minutes * 60 + seconds) * 1000);
    await q(
      `INSERT INTO eworker_marks (eworker, event_id, revision, tenant_id, event_type, status, parked_count, updated_at)
       VALUES ('w', $4, 1, 'acme', 'a.b', 'processed', 0, $1),
              ('w', $5, 1, 'acme', 'a.b', 'processed', 1, $2),
              ('w', $6, 1, 'acme', 'a.b', 'failed', 2, $3),
              ('w', $7, 1, 'globex', 'a.b', 'processed', 0, $1)`,
      [at(1), at(2), at(3), ...ids],
    );
    await q(
      `INSERT INTO webhook_endpoints (id, tenant_id, url) VALUES ('we_1', 'acme', 'https://x.test/')`,
    );
    await q(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq, status)
       VALUES ('dlv_1', 'acme', 'we_1', $1, 1, 'a.b', 1, 'succeeded'),
              ('dlv_2', 'acme', 'we_1', $2, 1, 'a.b', 2, 'failed')`,
      [ids[0], ids[1]],
    );
    await q(
      `INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, attempt, started_at, latency_ms, succeeded, status_code, error)
       VALUES ('acme', 'dlv_1', 'we_1', 1, $1, 10, false, 503, NULL),
              ('acme', 'dlv_1', 'we_1', 2, $2, 30, true, 200, NULL),
              ('acme', 'dlv_2', 'we_1', 1, $3, 20, false, NULL, 'connect: ECONNREFUSED')`,
      [at(0, 10), at(1, 10), at(2, 10)],
    );

    expect(await migrate(withCounters)).toEqual([COUNTERS, DELTAS]);

    const counts = await q(
      `SELECT tenant_id, eworker, event_type, processed::int, failed::int, last_processed_at
         FROM eworker_mark_counts ORDER BY tenant_id`,
    );
    expect(counts.rows).toEqual([
      {
        tenant_id: 'acme',
        eworker: 'w',
        event_type: 'a.b',
        processed: 2,
        failed: 2,
        last_processed_at: at(2),
      },
      {
        tenant_id: 'globex',
        eworker: 'w',
        event_type: 'a.b',
        processed: 1,
        failed: 0,
        last_processed_at: at(1),
      },
    ]);
    const deliveries = new WebhookDeliveryRepo(schema.pool, schema.schema, () =>
      newPrefixedId('dlv'),
    );
    expect(await deliveries.stats('acme', 'we_1')).toMatchObject({
      attempts: 3,
      succeeded: 1,
      failed: 2,
      deliveries_failed: 1,
      latency_p50_ms: 20,
      last_error: 'connect: ECONNREFUSED',
      last_error_at: at(2, 10).toISOString(),
    });
    const timeline = await new AttemptTimelineRepo(schema.pool).countsByBucket('acme', 'we_1', {
      since: t0,
      until: at(3),
      bucketSeconds: 60,
    });
    expect([...(timeline ?? [])].sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, attempts: 1, succeeded: 0 },
      { index: 1, attempts: 1, succeeded: 1 },
      { index: 2, attempts: 1, succeeded: 0 },
    ]);
  });
});
