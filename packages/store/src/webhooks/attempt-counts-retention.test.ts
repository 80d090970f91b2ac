import { Registry } from '@reten/observability';
import { createTestSchema, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { newPrefixedId } from '../ids';
import { RetentionRunner } from '../retention/retention-runner';
import { AttemptTimelineRepo } from './attempt-timeline';
import { compactCountDeltas } from './count-deltas';
import { DeliveryAttemptRepo } from './delivery-attempts';
import { WebhookDeliveryRepo } from './delivery-repo';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('attempt counts retention');
});

afterAll(async () => {
  await schema?.drop();
});

describe('retention of the per-minute attempt counts', () => {
  it('drops the minutes older than the attempts period and keeps the totals of the stats', async () => {
    await schema.pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url) VALUES ('we_ret', 'acme', 'https://x.test/')`,
    );
    const attempts = new DeliveryAttemptRepo(schema.pool);
    const now = Date.now();
    for (const [i, at] of [now - 2 * 3_600_000, now].entries()) {
      const [rows] = await attempts.ensureMany([
        {
          tenantId: 'acme',
          event: { eventId: `evt_ret_${i}`, revision: 1, eventType: 'a.b', seq: String(i) },
          endpointIds: ['we_ret'],
        },
      ]);
      const row = rows?.[0];
      if (!row) throw new Error('no delivery row');
      await attempts.recordMany([
        {
          row,
          expectedToken: row.token,
          result: {
            startedAt: new Date(at),
            latencyMs: 5,
            succeeded: true,
            statusCode: 200,
            phase: null,
            error: null,
            responseExcerpt: null,
          },
          outcome: { status: 'succeeded', token: null, nextAttemptAt: null },
        },
      ]);
    }
    // the counts as the delivery service compacts them from its outcome batches
    expect(await compactCountDeltas(schema.pool, 500)).toBe(2);
    const runner = new RetentionRunner(
      schema.pool,
      { connectionString: schema.databaseUrl, options: `-c search_path="${schema.schema}"` },
      schema.schema,
      {
        periods: {
          eventsDefaultSeconds: 86_400,
          attemptsSeconds: 3600,
          marksSeconds: 86_400,
          clientLogSeconds: 86_400,
          idempotencySeconds: 86_400,
        },
        partitionSeconds: 86_400,
        intervalSeconds: 60,
        lockTimeoutMs: 2000,
        batchRows: 100,
        maxBatchesPerRun: 10,
      },
      silentLogger(),
      new Registry(),
    );
    try {
      await runner.runOnce(now);
    } finally {
      await runner.stop();
    }

    const minutes = await schema.pool.query<{ minute: Date }>(
      'SELECT minute FROM webhook_attempt_counts',
    );
    expect(minutes.rows.map((r) => r.minute.getTime())).toEqual([
      Math.floor(now / 60_000) * 60_000,
    ]);
    const timeline = await new AttemptTimelineRepo(schema.pool).countsByBucket('acme', 'we_ret', {
      since: new Date(now - 3 * 3_600_000),
      until: new Date(now + 60_000),
      bucketSeconds: 3600,
    });
    expect(timeline?.reduce((n, b) => n + b.attempts, 0)).toBe(1);
    const stats = await new WebhookDeliveryRepo(schema.pool, schema.schema, () =>
      newPrefixedId('dlv'),
    ).stats('acme', 'we_ret');
    expect(stats).toMatchObject({ attempts: 2, succeeded: 2 });
  });
});
