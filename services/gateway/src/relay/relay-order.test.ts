import { EventTap, eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

const PRODUCERS = 16;
const EVENTS_PER_PRODUCER = 20;

describe('publish order under concurrent producers', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    // small relay batches and several group-commit transactions in flight at once
    gw = await startTestGateway('relay order', {
      env: { RELAY_BATCH_SIZE: '16', INGEST_MAX_BATCH: '8', INGEST_MAX_CONCURRENT_FLUSHES: '3' },
    });
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  it("publishes each producer's events in its send order, every event exactly once", async () => {
    const sentBy = new Map<number, string[]>();
    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, p) => {
        const ids: string[] = [];
        sentBy.set(p, ids);
        for (let i = 0; i < EVENTS_PER_PRODUCER; i += 1) {
          // next event only after the 202 of the previous one
          const path = p % 2 === 0 ? '/v1.0/event/order.test' : '/api/v1/events';
          const body = p % 2 === 0 ? { p, i } : { event_type: 'order.test', data: { p, i } };
          ids.push(eventIdOf(await api(gw, 'POST', path, body)));
        }
      }),
    );
    const total = PRODUCERS * EVENTS_PER_PRODUCER;

    await eventually(() => expect(tap.messages).toHaveLength(total), { timeoutMs: 20_000 });
    const published = tap.messages.map((m) => m.body as { event_id: string; data: { p: number } });
    expect(new Set(published.map((m) => m.event_id)).size).toBe(total);
    for (const [p, ids] of sentBy) {
      const seenOrder = published.filter((m) => m.data.p === p).map((m) => m.event_id);
      expect(seenOrder).toEqual(ids);
    }
    const batches = await gw.schema.pool.query<{ n: number }>(
      'SELECT count(DISTINCT received_at)::int AS n FROM events',
    );
    // group commit: concurrent requests shared transactions
    expect(batches.rows[0]!.n).toBeLessThan(total);
  });
});
