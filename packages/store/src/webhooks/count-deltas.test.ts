import { Pool } from 'pg';
import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { newPrefixedId } from '../ids';
import { AttemptTimelineRepo } from './attempt-timeline';
import { compactCountDeltas } from './count-deltas';
import { DeliveryAttemptRepo } from './delivery-attempts';
import type { RecordItem } from './delivery-attempts';
import { WebhookDeliveryRepo } from './delivery-repo';

let schema: TestSchema;
let deliveries: WebhookDeliveryRepo;
let attempts: DeliveryAttemptRepo;
let timeline: AttemptTimelineRepo;
let events = 0;

beforeAll(async () => {
  schema = await createTestSchema('count deltas');
  deliveries = new WebhookDeliveryRepo(schema.pool, schema.schema, () => newPrefixedId('dlv'));
  attempts = new DeliveryAttemptRepo(schema.pool);
  timeline = new AttemptTimelineRepo(schema.pool);
});

afterAll(async () => {
  await schema?.drop();
});

// each test has endpoints of its own; the delta rows are shared, so tests that count them run
// one at a time (jest runs a file's tests in order)
async function newEndpoints(...ids: string[]): Promise<void> {
  for (const id of ids) {
    await schema.pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url) VALUES ($1, 'acme', 'https://x.test/')`,
      [id],
    );
  }
}

/**
 * One batch of first attempts as the delivery service stores it: a new event to each endpoint
 * given, started `at` + 5 s per item; every third attempt fails.
 */
async function recordBatch(endpointIds: string[], at: Date): Promise<void> {
  const items: RecordItem[] = [];
  for (const [i, endpointId] of endpointIds.entries()) {
    events += 1;
    const [rows] = await attempts.ensureMany([
      {
        tenantId: 'acme',
        event: { eventId: `evt_cd_${events}`, revision: 1, eventType: 'a.b', seq: `${events}` },
        endpointIds: [endpointId],
      },
    ]);
    const row = rows?.[0];
    if (!row) throw new Error('no delivery row');
    const ok = events % 3 !== 0;
    items.push({
      row,
      expectedToken: row.token,
      result: {
        startedAt: new Date(at.getTime() + i * 5_000),
        latencyMs: 10,
        succeeded: ok,
        statusCode: ok ? 200 : 500,
        phase: ok ? null : 'status',
        error: ok ? null : `boom ${events}`,
        responseExcerpt: null,
      },
      outcome: { status: ok ? 'succeeded' : 'retrying', token: null, nextAttemptAt: null },
    });
  }
  await attempts.recordMany(items);
}

/** What the API shows of an endpoint: its stats' counts and last error, and its timeline. */
async function shown(endpointId: string, since: Date) {
  const stats = await deliveries.stats('acme', endpointId);
  const buckets = await timeline.countsByBucket('acme', endpointId, {
    since,
    until: new Date(since.getTime() + 3_600_000),
    bucketSeconds: 60,
  });
  return {
    attempts: stats.attempts,
    succeeded: stats.succeeded,
    last_error: stats.last_error,
    last_error_at: stats.last_error_at,
    buckets: [...(buckets ?? [])].sort((a, b) => a.index - b.index),
  };
}

/** The same figures from the attempts themselves. */
async function truth(endpointId: string, since: Date) {
  const totals = await schema.pool.query<{
    attempts: number;
    succeeded: number;
    last_error: string | null;
    last_error_at: Date | null;
  }>(
    `SELECT count(*)::int AS attempts, (count(*) FILTER (WHERE succeeded))::int AS succeeded,
            (array_agg(error ORDER BY started_at DESC) FILTER (WHERE NOT succeeded))[1]
              AS last_error,
            max(started_at) FILTER (WHERE NOT succeeded) AS last_error_at
       FROM webhook_attempts WHERE endpoint_id = $1`,
    [endpointId],
  );
  const buckets = await schema.pool.query<{ index: number; attempts: number; succeeded: number }>(
    `SELECT floor(extract(epoch FROM started_at - $2::timestamptz) / 60)::int AS index,
            count(*)::int AS attempts, (count(*) FILTER (WHERE succeeded))::int AS succeeded
       FROM webhook_attempts WHERE endpoint_id = $1 GROUP BY 1 ORDER BY 1`,
    [endpointId, since.toISOString()],
  );
  const t = totals.rows[0];
  return {
    attempts: t?.attempts ?? 0,
    succeeded: t?.succeeded ?? 0,
    last_error: t?.last_error ?? null,
    last_error_at: t?.last_error_at?.toISOString() ?? null,
    buckets: buckets.rows,
  };
}

async function count(table: string): Promise<number> {
  const res = await schema.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return res.rows[0]?.n ?? 0;
}

async function compactAll(db: Pool = schema.pool, limit = 500): Promise<number> {
  let total = 0;
  for (
    let n = await compactCountDeltas(db, limit);
    n > 0;
    n = await compactCountDeltas(db, limit)
  ) {
    total += n;
  }
  return total;
}

function otherPool(): Pool {
  return new Pool({
    connectionString: schema.databaseUrl,
    max: 2,
    options: `-c search_path="${schema.schema}"`,
  });
}

describe('count deltas', () => {
  it('a batch of outcomes adds one row; the API counts it exactly before and after its compaction', async () => {
    await newEndpoints('we_cd_a', 'we_cd_b');
    await compactAll();
    // across a minute's end: one endpoint's attempts fall in two minutes
    const since = new Date('2026-03-01T10:00:00Z');
    await recordBatch(
      ['we_cd_a', 'we_cd_b', 'we_cd_a', 'we_cd_a', 'we_cd_b', 'we_cd_a'],
      new Date('2026-03-01T10:00:50Z'),
    );
    expect(await count('webhook_count_deltas')).toBe(1);
    expect(await count('webhook_endpoint_counts')).toBe(0);
    const expected = { a: await truth('we_cd_a', since), b: await truth('we_cd_b', since) };
    expect(expected.a.attempts).toBe(4);
    expect(expected.a.buckets).toHaveLength(2);
    expect(expected.a.last_error ?? expected.b.last_error).toMatch(/^boom /);

    expect(await shown('we_cd_a', since)).toEqual(expected.a);
    expect(await shown('we_cd_b', since)).toEqual(expected.b);

    expect(await compactCountDeltas(schema.pool, 500)).toBe(1);
    expect(await count('webhook_count_deltas')).toBe(0);
    expect(await count('webhook_endpoint_counts')).toBe(2);
    expect(await shown('we_cd_a', since)).toEqual(expected.a);
    expect(await shown('we_cd_b', since)).toEqual(expected.b);
    // nothing is added twice
    expect(await compactCountDeltas(schema.pool, 500)).toBe(0);
    expect(await shown('we_cd_a', since)).toEqual(expected.a);

    // a later failure replaces the last error; an earlier one stored later does not
    await recordBatch(['we_cd_a', 'we_cd_a', 'we_cd_a'], new Date('2026-03-01T10:05:00Z'));
    await compactAll();
    await recordBatch(['we_cd_a', 'we_cd_a', 'we_cd_a'], new Date('2026-03-01T10:02:00Z'));
    const later = await truth('we_cd_a', since);
    expect(later.last_error_at).toMatch(/^2026-03-01T10:05:/);
    expect(await shown('we_cd_a', since)).toEqual(later);
    await compactAll();
    expect(await shown('we_cd_a', since)).toEqual(later);
  });

  it('readers running beside compactions count every attempt once', async () => {
    await newEndpoints('we_cd_race');
    await compactAll();
    const since = new Date('2026-03-02T10:00:00Z');
    for (let b = 0; b < 30; b++) {
      await recordBatch(
        Array.from({ length: 5 }, () => 'we_cd_race'),
        new Date(since.getTime() + b * 20_000),
      );
    }
    const expected = await truth('we_cd_race', since);
    expect(expected.attempts).toBe(150);
    const readers = otherPool();
    try {
      // one delta at a time, the API read between each, and read side by side with them
      let compacting = true;
      const seen: unknown[] = [];
      const reading = (async () => {
        while (compacting) {
          const [stats, buckets] = await Promise.all([
            deliveries.stats('acme', 'we_cd_race'),
            new AttemptTimelineRepo(readers).countsByBucket('acme', 'we_cd_race', {
              since,
              until: new Date(since.getTime() + 3_600_000),
              bucketSeconds: 60,
            }),
          ]);
          seen.push(
            stats.attempts,
            (buckets ?? []).reduce((n, x) => n + x.attempts, 0),
          );
        }
      })();
      let steps = 0;
      for (let n = await compactCountDeltas(schema.pool, 1); n > 0;) {
        steps += n;
        expect(await shown('we_cd_race', since)).toEqual(expected);
        n = await compactCountDeltas(schema.pool, 1);
      }
      compacting = false;
      await reading;
      expect(steps).toBe(30);
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set([150]));
    } finally {
      await readers.end();
    }
    expect(await shown('we_cd_race', since)).toEqual(expected);
  });

  it('two compactions side by side take each row once', async () => {
    await newEndpoints('we_cd_two1', 'we_cd_two2', 'we_cd_two3');
    await compactAll();
    const since = new Date('2026-03-03T10:00:00Z');
    for (let b = 0; b < 40; b++) {
      // distinct start times: the latest failure is one attempt
      await recordBatch(
        ['we_cd_two1', 'we_cd_two2', 'we_cd_two3', 'we_cd_two1'],
        new Date(since.getTime() + b * 100),
      );
    }
    const ids = ['we_cd_two1', 'we_cd_two2', 'we_cd_two3'];
    const expected = await Promise.all(ids.map((id) => truth(id, since)));
    const other = otherPool();
    try {
      const taken = await Promise.all([compactAll(schema.pool, 3), compactAll(other, 3)]);
      expect(taken[0] + taken[1]).toBe(40);
    } finally {
      await other.end();
    }
    expect(await count('webhook_count_deltas')).toBe(0);
    expect(await Promise.all(ids.map((id) => shown(id, since)))).toEqual(expected);
  });

  it('a compaction that never commits leaves its rows to the next one', async () => {
    await newEndpoints('we_cd_crash');
    await compactAll();
    const since = new Date('2026-03-04T10:00:00Z');
    for (let b = 0; b < 3; b++) {
      await recordBatch(['we_cd_crash', 'we_cd_crash'], new Date(since.getTime() + b * 100));
    }
    const expected = await truth('we_cd_crash', since);
    const doomed = otherPool();
    const client = await doomed.connect();
    client.on('error', () => undefined);
    try {
      await client.query('BEGIN');
      expect(await compactCountDeltas(client, 500)).toBe(3);
      // its rows are locked: another compaction skips them, the API still counts them once
      expect(await compactCountDeltas(schema.pool, 500)).toBe(0);
      expect(await shown('we_cd_crash', since)).toEqual(expected);
      // the process dies before its commit
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
        ?.pid;
      await schema.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await expect(client.query('COMMIT')).rejects.toThrow();
    } finally {
      client.release(true);
      await doomed.end();
    }
    expect(await count('webhook_count_deltas')).toBe(3);
    expect(await shown('we_cd_crash', since)).toEqual(expected);
    expect(await compactAll()).toBe(3);
    expect(await shown('we_cd_crash', since)).toEqual(expected);
  });

  it("drops the deltas of an endpoint deleted before they are compacted, not the others'", async () => {
    await newEndpoints('we_cd_gone', 'we_cd_kept');
    await compactAll();
    const since = new Date('2026-03-05T10:00:00Z');
    await recordBatch(['we_cd_gone', 'we_cd_kept', 'we_cd_gone'], since);
    const expected = await truth('we_cd_kept', since);
    await schema.pool.query(`DELETE FROM webhook_endpoints WHERE id = 'we_cd_gone'`);
    expect(await compactCountDeltas(schema.pool, 500)).toBe(1);
    expect(await count('webhook_count_deltas')).toBe(0);
    const left = await schema.pool.query<{ endpoint_id: string }>(
      `SELECT DISTINCT endpoint_id FROM webhook_endpoint_counts
        WHERE endpoint_id IN ('we_cd_gone', 'we_cd_kept')`,
    );
    expect(left.rows).toEqual([{ endpoint_id: 'we_cd_kept' }]);
    expect(await shown('we_cd_kept', since)).toEqual(expected);
  });
});
