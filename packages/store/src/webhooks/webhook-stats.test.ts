import { Pool } from 'pg';
import { createTestSchema, eventually } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { newPrefixedId } from '../ids';
import { AttemptTimelineRepo } from './attempt-timeline';
import { compactCountDeltas, vacuumCountDeltas } from './count-deltas';
import { DeliveryAttemptRepo } from './delivery-attempts';
import type { RecordItem } from './delivery-attempts';
import { LATENCY_WINDOW, WebhookDeliveryRepo } from './delivery-repo';
import type { DeliveryRow } from './webhook-rows';

let schema: TestSchema;
let deliveries: WebhookDeliveryRepo;
let attempts: DeliveryAttemptRepo;
let timeline: AttemptTimelineRepo;
let events = 0;

beforeAll(async () => {
  schema = await createTestSchema('webhook stats');
  deliveries = new WebhookDeliveryRepo(schema.pool, schema.schema, () => newPrefixedId('dlv'));
  attempts = new DeliveryAttemptRepo(schema.pool);
  timeline = new AttemptTimelineRepo(schema.pool);
});

afterAll(async () => {
  await schema?.drop();
});

async function newEndpoint(id: string, tenantId = 'acme'): Promise<void> {
  await schema.pool.query(
    `INSERT INTO webhook_endpoints (id, tenant_id, url) VALUES ($1, $2, 'https://example.com/hook')`,
    [id, tenantId],
  );
}

/** A fresh delivery row of a new event to the endpoint. */
async function newDelivery(endpointId: string, tenantId = 'acme'): Promise<DeliveryRow> {
  events += 1;
  const [rows] = await attempts.ensureMany([
    {
      tenantId,
      event: { eventId: `evt_stats_${events}`, revision: 1, eventType: 'a.b', seq: `${events}` },
      endpointIds: [endpointId],
    },
  ]);
  const row = rows?.[0];
  if (!row) throw new Error('no delivery row created');
  return row;
}

/** The first attempt of a delivery, as the delivery service stores it. */
function attempt(
  row: DeliveryRow,
  a: { at: Date; ok: boolean; latencyMs?: number; final?: boolean },
): RecordItem {
  return {
    row,
    expectedToken: row.token,
    result: {
      startedAt: a.at,
      latencyMs: a.latencyMs ?? 10,
      succeeded: a.ok,
      statusCode: a.ok ? 200 : 500,
      phase: a.ok ? null : 'status',
      error: null,
      responseExcerpt: null,
    },
    outcome: {
      status: a.ok ? 'succeeded' : a.final ? 'failed' : 'retrying',
      token: a.ok || a.final ? null : `t_${row.id}`,
      nextAttemptAt: null,
    },
  };
}

/**
 * What the API shows of an endpoint: its stats' counts and last error, and its timeline from
 * `since` (an hour, buckets of `bucketSeconds`).
 */
async function shown(endpointId: string, since: Date, bucketSeconds = 60) {
  const stats = await deliveries.stats('acme', endpointId);
  const buckets = await timeline.countsByBucket('acme', endpointId, {
    since,
    until: new Date(since.getTime() + 3_600_000),
    bucketSeconds,
  });
  return {
    attempts: stats.attempts,
    succeeded: stats.succeeded,
    last_error: stats.last_error,
    last_error_at: stats.last_error_at,
    buckets: [...(buckets ?? [])].sort((a, b) => a.index - b.index),
  };
}

/** The same figures from a scan of webhook_attempts: the counters must say the same. */
async function truth(endpointId: string, since: Date, bucketSeconds = 60) {
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
    `SELECT floor(extract(epoch FROM started_at - $2::timestamptz) / $3)::int AS index,
            count(*)::int AS attempts, (count(*) FILTER (WHERE succeeded))::int AS succeeded
       FROM webhook_attempts WHERE endpoint_id = $1 GROUP BY 1 ORDER BY 1`,
    [endpointId, since.toISOString(), bucketSeconds],
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

describe("an endpoint's stats and timeline", () => {
  it('count what concurrent batches stored, each attempt once, a repeated batch included', async () => {
    await newEndpoint('we_conc');
    const start = new Date('2026-03-01T10:00:00Z');
    // separate pools: separate backends, so batches land in several counter slots at once
    const pools = Array.from({ length: 4 }, () => otherPool());
    try {
      const batches = await Promise.all(
        Array.from({ length: 16 }, async (_, b) => {
          const items: RecordItem[] = [];
          for (let i = 0; i < 10; i += 1) {
            const row = await newDelivery('we_conc');
            const at = new Date(start.getTime() + (b * 10 + i) * 7_000);
            items.push(attempt(row, { at, ok: (b + i) % 3 !== 0 }));
          }
          const repo = new DeliveryAttemptRepo(pools[b % pools.length] as Pool);
          await repo.recordMany(items);
          return { repo, items };
        }),
      );
      // the answer to a batch was lost and the delivery service stores it again
      const first = batches[0];
      if (!first) throw new Error('no batch');
      await first.repo.recordMany(first.items);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }

    const expected = await truth('we_conc', start, 300);
    expect(expected.attempts).toBe(160);
    const stats = await deliveries.stats('acme', 'we_conc');
    expect(stats).toMatchObject({
      attempts: expected.attempts,
      succeeded: expected.succeeded,
      failed: expected.attempts - expected.succeeded,
      success_rate: expected.succeeded / expected.attempts,
    });
    expect((await shown('we_conc', start, 300)).buckets).toEqual(expected.buckets);
  });

  it('give the latest failure, the failed deliveries and the latency of the latest attempts', async () => {
    await newEndpoint('we_last');
    const t0 = new Date('2026-03-02T00:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    const rows = await Promise.all([1, 2, 3, 4].map(() => newDelivery('we_last')));
    const [r1, r2, r3, r4] = rows as [DeliveryRow, DeliveryRow, DeliveryRow, DeliveryRow];
    await attempts.recordMany([
      attempt(r1, { at: at(1), ok: false }),
      attempt(r2, { at: at(3), ok: false, final: true }),
    ]);
    await attempts.recordMany([attempt(r3, { at: at(2), ok: false, final: true })]);
    await attempts.recordMany([attempt(r4, { at: at(4), ok: true })]);
    const stats = await deliveries.stats('acme', 'we_last');
    expect(stats).toMatchObject({
      attempts: 4,
      succeeded: 1,
      deliveries_failed: 2,
      last_error: 'HTTP 500',
      last_error_at: at(3).toISOString(),
    });

    // latency percentiles follow the latest LATENCY_WINDOW attempts: older slow ones drop out
    await newEndpoint('we_slow');
    const slow = await Promise.all([1, 2].map(() => newDelivery('we_slow')));
    await attempts.recordMany(
      slow.map((row, i) => attempt(row, { at: at(10 + i), ok: true, latencyMs: 5000 })),
    );
    expect((await deliveries.stats('acme', 'we_slow')).latency_p50_ms).toBe(5000);
    const fast = await Promise.all(
      Array.from({ length: LATENCY_WINDOW }, () => newDelivery('we_slow')),
    );
    await attempts.recordMany(
      fast.map((row, i) => attempt(row, { at: at(20 + i), ok: true, latencyMs: 20 })),
    );
    expect(await deliveries.stats('acme', 'we_slow')).toMatchObject({
      attempts: LATENCY_WINDOW + 2,
      latency_p50_ms: 20,
      latency_p99_ms: 20,
    });
  });

  it("never count one tenant's attempts for another tenant", async () => {
    await newEndpoint('we_iso_stats');
    const row = await newDelivery('we_iso_stats');
    await attempts.recordMany([attempt(row, { at: new Date(), ok: false })]);
    // as count deltas, then compacted into the counts
    for (const compacted of [false, true]) {
      if (compacted) await compactAll();
      expect((await deliveries.stats('acme', 'we_iso_stats')).attempts).toBe(1);
      expect(await deliveries.stats('globex', 'we_iso_stats')).toMatchObject({
        attempts: 0,
        last_error: null,
        deliveries_failed: 0,
      });
      expect(
        await timeline.countsByBucket('globex', 'we_iso_stats', {
          since: new Date(Date.now() - 3_600_000),
          until: new Date(Date.now() + 60_000),
          bucketSeconds: 3600,
        }),
      ).toBeUndefined();
    }
  });
});

/**
 * One batch of first attempts as the delivery service stores it: a new event to each endpoint
 * given, started `at` + 5 s per item; every third attempt fails.
 */
async function recordBatch(endpointIds: string[], at: Date): Promise<void> {
  const items: RecordItem[] = [];
  for (const [i, endpointId] of endpointIds.entries()) {
    const row = await newDelivery(endpointId);
    items.push(attempt(row, { at: new Date(at.getTime() + i * 5_000), ok: events % 3 !== 0 }));
  }
  await attempts.recordMany(items);
}

async function newEndpoints(...ids: string[]): Promise<void> {
  for (const id of ids) await newEndpoint(id);
}

/** Rows of count deltas not compacted yet (the tests below compact all before they start). */
async function deltaRows(): Promise<number> {
  const res = await schema.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM webhook_count_deltas',
  );
  return res.rows[0]?.n ?? 0;
}

/** The endpoints of `ids` that have compacted counts. */
async function countedEndpoints(...ids: string[]): Promise<string[]> {
  const res = await schema.pool.query<{ endpoint_id: string }>(
    `SELECT DISTINCT endpoint_id FROM webhook_endpoint_counts WHERE endpoint_id = ANY ($1)
      ORDER BY 1`,
    [ids],
  );
  return res.rows.map((r) => r.endpoint_id);
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

/** A pool of its own on the test schema: other backends than the schema's pool. */
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
    expect(await deltaRows()).toBe(1);
    expect(await countedEndpoints('we_cd_a', 'we_cd_b')).toEqual([]);
    const expected = { a: await truth('we_cd_a', since), b: await truth('we_cd_b', since) };
    expect(expected.a.attempts).toBe(4);
    expect(expected.a.buckets).toHaveLength(2);
    expect(expected.a.last_error ?? expected.b.last_error).toBe('HTTP 500');

    expect(await shown('we_cd_a', since)).toEqual(expected.a);
    expect(await shown('we_cd_b', since)).toEqual(expected.b);

    expect(await compactCountDeltas(schema.pool, 500)).toBe(1);
    expect(await deltaRows()).toBe(0);
    expect(await countedEndpoints('we_cd_a', 'we_cd_b')).toEqual(['we_cd_a', 'we_cd_b']);
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
    expect(await deltaRows()).toBe(0);
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
    expect(await deltaRows()).toBe(3);
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
    expect(await deltaRows()).toBe(0);
    expect(await countedEndpoints('we_cd_gone', 'we_cd_kept')).toEqual(['we_cd_kept']);
    expect(await shown('we_cd_kept', since)).toEqual(expected);
  });

  it('a vacuum after a compaction lets the next rows reuse the space, so the table does not grow', async () => {
    await compactAll();
    // rows the size of a batch over 57 endpoints (~5 KB: one per page)
    const fill = () =>
      schema.pool.query(
        `INSERT INTO webhook_count_deltas (endpoint_ids, tenant_ids, minutes, attempts, succeeded,
                                           last_errors, last_error_ats)
         SELECT array_agg('we_vac_' || g || '_' || r), array_agg('acme'::text), array_agg(now()),
                array_agg(1), array_agg(1), array_agg(NULL::text), array_agg(NULL::timestamptz)
           FROM generate_series(1, 40) r, generate_series(1, 57) g GROUP BY r`,
      );
    const size = async () =>
      Number(
        (
          await schema.pool.query<{ n: string }>(
            `SELECT pg_relation_size('webhook_count_deltas') AS n`,
          )
        ).rows[0]?.n,
      );
    await vacuumCountDeltas(schema.pool);
    await fill();
    const filled = await size();
    expect(await compactAll()).toBe(40);
    // a vacuum keeps what a snapshot of another session may still see: other tests of this
    // database (another jest worker) may hold one from before the compaction for a moment.
    // An xid after the compaction's, in the 32-bit form pg_stat_activity shows:
    const after = (
      await schema.pool.query<{ xid: string }>(
        'SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text AS xid',
      )
    ).rows[0]!.xid;
    await eventually(
      async () => {
        const { rows } = await schema.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND (age(backend_xmin) >= age($1::xid) OR age(backend_xid) >= age($1::xid))`,
          [after],
        );
        expect(Number(rows[0]?.n)).toBe(0);
      },
      { timeoutMs: 30_000 },
    );
    // without a vacuum, the same rows again would take new pages
    await vacuumCountDeltas(schema.pool);
    await fill();
    expect(await size()).toBeLessThanOrEqual(filled);
    expect(await compactAll()).toBe(40);
  });
});
