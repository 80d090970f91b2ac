import { Pool } from 'pg';
import { isRetenError } from '@reten/contracts';
import { createMetricsRegistry } from '@reten/observability';
import { EventStore, newEventId } from '@reten/store';
import type { NewEventRow } from '@reten/store';
import { TcpProxy, createTestSchema, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { createGatewayMetrics } from '../metrics';
import type { GatewayMetrics } from '../metrics';
import { EventWriter } from './event-writer';

function row(i: number, dataJson = JSON.stringify({ i })): NewEventRow {
  return {
    tenantId: 'dev',
    eventId: newEventId(),
    revision: 1,
    eventType: 'writer.test',
    occurredAt: new Date(),
    dataJson,
  };
}

async function batchSizes(metrics: GatewayMetrics): Promise<{ count: number; sum: number }> {
  const { values } = await metrics.ingestBatchSize.get();
  const value = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
  return {
    count: value('reten_ingest_batch_size_count'),
    sum: value('reten_ingest_batch_size_sum'),
  };
}

describe('EventWriter group commit against PostgreSQL', () => {
  let schema: TestSchema;
  let store: EventStore;

  beforeAll(async () => {
    schema = await createTestSchema('event writer');
    store = new EventStore(schema.pool, schema.schema);
  });

  afterAll(async () => {
    await schema?.drop();
  });

  function writer(options = { maxBatch: 500, maxConcurrentFlushes: 1 }) {
    const metrics = createGatewayMetrics(createMetricsRegistry('test'));
    return { metrics, writer: new EventWriter(store, options, metrics, silentLogger()) };
  }

  async function committed(eventId: string): Promise<boolean> {
    const res = await schema.pool.query('SELECT 1 FROM events WHERE event_id = $1', [eventId]);
    return res.rowCount === 1;
  }

  it('commits concurrent writes in shared transactions, each resolved only once committed', async () => {
    const { writer: w, metrics } = writer();
    const rows = Array.from({ length: 200 }, (_, i) => row(i));
    const visibleOnResolve = await Promise.all(
      rows.map(async (r) => {
        await w.write(r);
        return committed(r.eventId);
      }),
    );
    expect(visibleOnResolve.every(Boolean)).toBe(true);
    const sizes = await batchSizes(metrics);
    expect(sizes.sum).toBe(200);
    expect(sizes.count).toBeLessThan(200);
  });

  it('never puts more than maxBatch rows in one transaction', async () => {
    const { writer: w, metrics } = writer({ maxBatch: 7, maxConcurrentFlushes: 2 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.write(row(i))));
    const { values } = await metrics.ingestBatchSize.get();
    const le10 = values.find((v) => v.metricName?.endsWith('_bucket') && v.labels.le === 10);
    const sizes = await batchSizes(metrics);
    expect(sizes.sum).toBe(50);
    expect(sizes.count).toBeGreaterThanOrEqual(Math.ceil(50 / 7));
    expect(le10?.value).toBe(sizes.count);
  });

  it('fails only the write whose data cannot be stored; the rest of its batch commits', async () => {
    const { writer: w } = writer();
    const good = [row(1), row(2), row(3)];
    const bad = row(99, '{"not json":');
    const results = await Promise.allSettled([
      w.write(good[0]!),
      w.write(bad),
      w.write(good[1]!),
      w.write(good[2]!),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const reason = (results[1] as PromiseRejectedResult).reason as unknown;
    expect(isRetenError(reason) && reason.code).toBe('validation_failed');
    for (const g of good) expect(await committed(g.eventId)).toBe(true);
    expect(await committed(bad.eventId)).toBe(false);
  });

  it('answers 503 service_unavailable when PostgreSQL is unreachable, and drain() still resolves', async () => {
    const url = new URL(schema.databaseUrl);
    const proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
    const pool = new Pool({
      connectionString: proxy.proxiedUrl(schema.databaseUrl),
      options: `-c search_path="${schema.schema}"`,
      connectionTimeoutMillis: 2000,
    });
    pool.on('error', () => undefined);
    try {
      const metrics = createGatewayMetrics(createMetricsRegistry('test'));
      const w = new EventWriter(
        new EventStore(pool, schema.schema),
        { maxBatch: 500, maxConcurrentFlushes: 1 },
        metrics,
        silentLogger(),
      );
      proxy.cut();
      const r = row(1);
      const error = await w.write(r).catch((err: unknown) => err);
      expect(isRetenError(error) && error.code).toBe('service_unavailable');
      await w.drain();
      expect(await committed(r.eventId)).toBe(false);
    } finally {
      await pool.end().catch(() => undefined);
      await proxy.close();
    }
  });
});
