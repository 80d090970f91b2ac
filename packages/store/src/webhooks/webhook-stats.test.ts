import { Pool } from 'pg';
import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { newPrefixedId } from '../ids';
import { AttemptTimelineRepo } from './attempt-timeline';
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

/** What a scan of webhook_attempts says: the counters must say the same. */
async function recount(endpointId: string): Promise<{ attempts: number; succeeded: number }> {
  const res = await schema.pool.query<{ attempts: number; succeeded: number }>(
    `SELECT count(*)::int AS attempts, (count(*) FILTER (WHERE succeeded))::int AS succeeded
       FROM webhook_attempts WHERE endpoint_id = $1`,
    [endpointId],
  );
  return res.rows[0] ?? { attempts: 0, succeeded: 0 };
}

describe("an endpoint's stats and timeline", () => {
  it('count what concurrent batches stored, each attempt once, a repeated batch included', async () => {
    await newEndpoint('we_conc');
    const start = new Date('2026-03-01T10:00:00Z');
    // separate pools: separate backends, so batches land in several counter slots at once
    const pools = Array.from(
      { length: 4 },
      () =>
        new Pool({
          connectionString: schema.databaseUrl,
          max: 2,
          options: `-c search_path="${schema.schema}"`,
        }),
    );
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

    const truth = await recount('we_conc');
    expect(truth).toEqual({ attempts: 160, succeeded: expect.any(Number) as unknown });
    const stats = await deliveries.stats('acme', 'we_conc');
    expect(stats).toMatchObject({
      attempts: truth.attempts,
      succeeded: truth.succeeded,
      failed: truth.attempts - truth.succeeded,
      success_rate: truth.succeeded / truth.attempts,
    });

    const buckets = await timeline.countsByBucket('acme', 'we_conc', {
      since: start,
      until: new Date(start.getTime() + 3_600_000),
      bucketSeconds: 300,
    });
    const perBucket = await schema.pool.query<{
      index: number;
      attempts: number;
      succeeded: number;
    }>(
      `SELECT floor(extract(epoch FROM started_at - $2::timestamptz) / 300)::int AS index,
              count(*)::int AS attempts, (count(*) FILTER (WHERE succeeded))::int AS succeeded
         FROM webhook_attempts WHERE endpoint_id = $1 GROUP BY 1 ORDER BY 1`,
      ['we_conc', start.toISOString()],
    );
    expect([...(buckets ?? [])].sort((a, b) => a.index - b.index)).toEqual(perBucket.rows);
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
  });
});
