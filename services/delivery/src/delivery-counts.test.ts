import { eventually, webhookReceiver } from '@reten/testing';
import type { WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

/** What is stored of an endpoint's counts: attempts, deltas not compacted, compacted counts. */
async function countsOf(d: TestDelivery, endpointId: string) {
  const res = await d.schema.pool.query<{ attempts: number; deltas: number; counted: number }>(
    `SELECT (SELECT count(*)::int FROM webhook_attempts WHERE endpoint_id = $1) AS attempts,
            (SELECT count(*)::int FROM webhook_count_deltas) AS deltas,
            (SELECT coalesce(sum(attempts), 0)::int FROM webhook_endpoint_counts
              WHERE endpoint_id = $1) AS counted`,
    [endpointId],
  );
  return res.rows[0];
}

describe('delivery service: endpoint counts', () => {
  let receiver: WebhookReceiver;
  const fixtures: TestDelivery[] = [];

  beforeAll(async () => {
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });

  afterAll(async () => {
    await Promise.all(fixtures.map((d) => d.close()));
    await receiver?.close();
  });

  /** A service compacting every `compactMs`, and `events` events published to a new endpoint. */
  async function deliverWith(title: string, compactMs: string, events: number) {
    const d = await startTestDelivery(title, { env: { DELIVERY_COUNT_COMPACT_MS: compactMs } });
    fixtures.push(d);
    const ep = await d.createEndpoint({ url: receiver.url(`/${fixtures.length}`) });
    await d.publishMany(
      Array.from({ length: events }, (_, i) => ({ type: 'count.x', data: { i } })),
    );
    return { d, ep };
  }

  it('compacts what its outcome batches add to the counts while it runs', async () => {
    const { d, ep } = await deliverWith('delivery counts', '200', 30);
    await eventually(async () =>
      expect(await countsOf(d, ep.id)).toEqual({ attempts: 30, deltas: 0, counted: 30 }),
    );
    // and vacuums the table it emptied (its first round that compacted anything)
    await eventually(async () => {
      const res = await d.schema.pool.query<{ last_vacuum: Date | null }>(
        `SELECT last_vacuum FROM pg_stat_user_tables
          WHERE schemaname = $1 AND relname = 'webhook_count_deltas'`,
        [d.schema.schema],
      );
      expect(res.rows[0]?.last_vacuum).toBeInstanceOf(Date);
    });
    const compacted = await d.service.registry
      .getSingleMetric('reten_webhook_count_deltas_compacted_total')
      ?.get();
    expect(compacted?.values[0]?.value).toBeGreaterThan(0);
  });

  it('compacts what it stored before it stops', async () => {
    // no round while the test runs: only the one at stop
    const { d, ep } = await deliverWith('delivery counts at stop', '60000', 10);
    await eventually(async () => expect((await countsOf(d, ep.id))?.attempts).toBe(10));
    expect((await countsOf(d, ep.id))?.deltas).toBeGreaterThan(0);
    await d.stopService();
    expect(await countsOf(d, ep.id)).toEqual({ attempts: 10, deltas: 0, counted: 10 });
  });
});
