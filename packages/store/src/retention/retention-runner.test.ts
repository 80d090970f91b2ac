import { Client } from 'pg';
import { Registry } from '@reten/observability';
import { createTestSchema, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { runMigrations } from '../migrate';
import { eventKeyAt } from './event-key';
import { Partitions } from './partitions';
import { RetentionRunner } from './retention-runner';
import type { RetentionOptions } from './retention-runner';

const OPTIONS: RetentionOptions = {
  periods: {
    eventsDefaultSeconds: 5,
    attemptsSeconds: 5,
    marksSeconds: 5,
    clientLogSeconds: 5,
    idempotencySeconds: 5,
  },
  partitionSeconds: 2,
  intervalSeconds: 5,
  lockTimeoutMs: 2000,
  batchRows: 2,
  maxBatchesPerRun: 100,
};

let serial = 0;
const idAt = (ms: number) => `${eventKeyAt(ms)}${String(++serial).padStart(16, '0')}`;

describe('RetentionRunner', () => {
  let schema: TestSchema;
  let runner: RetentionRunner;
  /** After the migrations: the events of a test are newer than the legacy partition. */
  let t0 = 0;

  const q = (sql: string, params: unknown[] = []) => schema.pool.query(sql, params);
  /** Marks every positioned revision published, as the relay's round does. */
  const publishAll = () =>
    q(
      `INSERT INTO published_rounds (last_position)
       SELECT max(stream_position) FROM events HAVING max(stream_position) IS NOT NULL
       ON CONFLICT DO NOTHING`,
    );
  /** Stores a revision with the next stream position, as a group commit does. */
  const insertRevision = async (tenant: string, eventId: string, revision = 1, current = true) => {
    await q(
      `WITH p AS (UPDATE stream_position_counter SET last_position = last_position + 1
                  RETURNING last_position)
       INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data,
                           is_current, stream_position)
       SELECT $1, $2, $3, 't', now(), '{}', $4, p.last_position FROM p`,
      [tenant, eventId, revision, current],
    );
  };
  const insertEvent = async (tenant: string, ms: number, published = true) => {
    const eventId = idAt(ms);
    await insertRevision(tenant, eventId);
    if (published) await publishAll();
    return eventId;
  };
  const eventIds = async (tenant: string) =>
    (
      await q('SELECT event_id FROM events WHERE tenant_id = $1 ORDER BY event_id', [tenant])
    ).rows.map((r: { event_id: string }) => r.event_id);
  const newRunner = (options: RetentionOptions = OPTIONS) =>
    new RetentionRunner(
      schema.pool,
      { connectionString: schema.databaseUrl, options: `-c search_path="${schema.schema}"` },
      schema.schema,
      options,
      silentLogger(),
      new Registry(),
    );

  beforeEach(async () => {
    schema = await createTestSchema('retention runner', { migrate: false });
    await runMigrations({
      databaseUrl: schema.databaseUrl,
      schema: schema.schema,
      log: silentLogger(),
      partitionSeconds: OPTIONS.partitionSeconds,
    });
    await q(`INSERT INTO tenants (id, name) VALUES ('a', 'A'), ('b', 'B')`);
    runner = newRunner();
    t0 = Date.now();
  });

  afterEach(async () => {
    await runner?.stop();
    await schema?.drop();
  });

  it('creates partitions ahead of now, of RETENTION_PARTITION_SECONDS each', async () => {
    const report = await runner.runOnce(t0);
    expect(report.ran).toBe(true);
    const partitions = new Partitions(schema.pool, schema.schema);
    for (const table of await partitions.tables()) {
      const parts = await partitions.list(table);
      const timed = parts.filter((p) => p.upperMs !== undefined && p.lowerMs !== undefined);
      const newest = Math.max(...timed.map((p) => p.upperMs ?? 0));
      // two missed runs of 5 s are covered
      expect(newest).toBeGreaterThanOrEqual(t0 + 15_000);
      const aligned = timed.filter((p) => (p.lowerMs ?? 0) % 2000 === 0);
      expect(aligned.length).toBeGreaterThan(3);
      for (const p of aligned) expect((p.upperMs ?? 0) - (p.lowerMs ?? 0)).toBe(2000);
    }
  });

  it('a process that does not know the partition size keeps it, and makes two partitions ahead, not more', async () => {
    // as an eworker or the stream runs the migrations at start, without the retention settings
    await runMigrations({
      databaseUrl: schema.databaseUrl,
      schema: schema.schema,
      log: silentLogger(),
    });
    const partitions = new Partitions(schema.pool, schema.schema);
    for (const table of await partitions.tables()) {
      const timed = (await partitions.list(table)).filter((p) => p.upperMs !== undefined);
      const newest = Math.max(...timed.map((p) => p.upperMs ?? 0));
      expect(newest).toBeLessThanOrEqual(Date.now() + 3 * 2000);
      expect(timed.length).toBeLessThan(8);
    }
  });

  it('drops expired partitions of every table and keeps fresh data', async () => {
    const old = await insertEvent('a', t0);
    await q(
      `INSERT INTO eworker_marks (eworker, event_id, revision, tenant_id, event_type, status)
       VALUES ('logs', $1, 1, 'a', 't', 'processed')`,
      [old],
    );
    await q(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, secret) VALUES ('wh_1', 'a', 'http://x', 's')`,
    );
    await q(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq)
       VALUES ('dlv_1', 'a', 'wh_1', $1, 1, 't', 1)`,
      [old],
    );
    await q(
      `INSERT INTO webhook_attempts (tenant_id, delivery_id, endpoint_id, attempt, started_at, latency_ms, succeeded)
       VALUES ('a', 'dlv_1', 'wh_1', 1, $1, 5, true)`,
      [new Date(t0)],
    );
    await runner.runOnce(t0); // partitions ahead, as the runner keeps them
    const fresh = await insertEvent('a', t0 + 9_000);

    const report = await runner.runOnce(t0 + 10_000);

    expect(await eventIds('a')).toEqual([fresh]);
    for (const table of ['eworker_marks', 'webhook_deliveries', 'webhook_attempts']) {
      expect((await q(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 0 });
    }
    const droppedTables = new Set(report.dropped.map((d) => d.table));
    expect([...droppedTables].sort()).toEqual([
      'client_log_lines',
      'events',
      'eworker_marks',
      'webhook_attempts',
      'webhook_deliveries',
    ]);
    expect(report.dropped.some((d) => d.partition === 'events_legacy')).toBe(true);
  });

  it('leaves a drop whose lock is busy past lock_timeout for the next run, and goes on with the other tables', async () => {
    const old = await insertEvent('a', t0);
    await q(
      `INSERT INTO eworker_marks (eworker, event_id, revision, tenant_id, event_type, status)
       VALUES ('logs', $1, 1, 'a', 't', 'processed')`,
      [old],
    );
    const reader = await schema.pool.connect();
    try {
      // a long query on events holds a lock that a DROP must wait for
      await reader.query('BEGIN');
      await reader.query('LOCK TABLE events IN ACCESS SHARE MODE');
      const busy = await newRunner({ ...OPTIONS, lockTimeoutMs: 200 }).runOnce(t0 + 10_000);
      expect(busy.ran).toBe(true);
      expect(busy.dropped.filter((d) => d.table === 'events')).toEqual([]);
      expect(busy.dropped.some((d) => d.table === 'eworker_marks')).toBe(true);
      expect(await eventIds('a')).toEqual([old]);
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
    }
    await runner.runOnce(t0 + 10_000);
    expect(await eventIds('a')).toEqual([]);
  });

  it('keeps a partition that holds an event not yet published, and drops it once it is', async () => {
    const unpublished = await insertEvent('a', t0, false);

    const first = await runner.runOnce(t0 + 10_000);
    expect(await eventIds('a')).toEqual([unpublished]);
    expect(first.kept).toHaveLength(1);

    await publishAll();
    await runner.runOnce(t0 + 10_000);
    expect(await eventIds('a')).toEqual([]);
  });

  it("prunes the relay's published marks that no stored event needs, and keeps the newest", async () => {
    await runner.runOnce(t0); // the partitions ahead
    await insertEvent('a', t0);
    await insertEvent('a', t0);
    const fresh = await insertEvent('a', t0 + 8_000);
    const marks = async () =>
      (
        await q('SELECT last_position::int AS p FROM published_rounds ORDER BY last_position')
      ).rows.map((r: { p: number }) => r.p);
    const before = await marks();
    expect(before.length).toBeGreaterThanOrEqual(3);

    await runner.runOnce(t0 + 10_000);

    expect(await eventIds('a')).toEqual([fresh]);
    const freshPosition = (
      await q('SELECT stream_position::int AS p FROM events WHERE event_id = $1', [fresh])
    ).rows[0].p as number;
    // the marks below the oldest stored position went; the one that dates `fresh` stayed
    expect(await marks()).toEqual(before.filter((p) => p >= freshPosition));
    const published = await q(
      'SELECT reten_published_at(stream_position, published_at) AS at FROM events WHERE event_id = $1',
      [fresh],
    );
    expect(published.rows[0].at).toBeInstanceOf(Date);
  });

  it("applies each tenant's events period, without touching another tenant's events", async () => {
    // b keeps events 60 s: partitions stay, a's older events go by batches
    await q(`UPDATE tenants SET events_retention_seconds = 60 WHERE id = 'b'`);
    const aOld = [
      await insertEvent('a', t0),
      await insertEvent('a', t0),
      await insertEvent('a', t0),
    ];
    await insertRevision('a', aOld[0]!, 2, false);
    await publishAll();
    await runner.runOnce(t0);
    const aFresh = await insertEvent('a', t0 + 8_000);
    const bOld = await insertEvent('b', t0);

    const report = await runner.runOnce(t0 + 10_000);

    expect(report.dropped.filter((d) => d.table === 'events')).toEqual([]);
    expect(report.eventsDeleted).toBe(4);
    expect(await eventIds('a')).toEqual([aFresh]);
    expect(await eventIds('b')).toEqual([bOld]);

    await runner.runOnce(t0 + 70_000);
    expect(await eventIds('b')).toEqual([]);
  });

  it('deletes Idempotency-Key records that expired or outlived their period', async () => {
    await q(
      `INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, created_at, expires_at)
       VALUES ('a', 'expired', 'h', 'completed', $1, $1),
              ('a', 'old', 'h', 'completed', $1, $2),
              ('a', 'fresh', 'h', 'completed', $2, $2)`,
      [new Date(t0), new Date(t0 + 86_400_000)],
    );
    const report = await runner.runOnce(t0 + 10_000);
    expect(report.idempotencyKeysDeleted).toBe(2);
    const left = await q('SELECT idempotency_key FROM idempotency_keys');
    expect(left.rows).toEqual([{ idempotency_key: 'fresh' }]);
  });

  it('runs in one process at a time: a runner that finds the lock held does nothing', async () => {
    const holder = new Client({ connectionString: schema.databaseUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [
        `reten.retention.${schema.schema}`,
      ]);
      const old = await insertEvent('a', t0);
      const skipped = await runner.runOnce(t0 + 10_000);
      expect(skipped).toMatchObject({ ran: false, dropped: [], created: [] });
      expect(await eventIds('a')).toEqual([old]);
      await holder.query('SELECT pg_advisory_unlock_all()');
      const done = await runner.runOnce(t0 + 10_000);
      expect(done.ran).toBe(true);
      expect(await eventIds('a')).toEqual([]);
    } finally {
      await holder.end();
    }
  });
});
