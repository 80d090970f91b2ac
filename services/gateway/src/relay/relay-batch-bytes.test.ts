import { EventTap, eventually } from '@reten/testing';
import { newEventId } from '@reten/store';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';

const MAX_BYTES = 1024;

describe('relay batches bounded by RELAY_BATCH_MAX_BYTES', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    gw = await startTestGateway('relay batch bytes', {
      env: { RELAY_BATCH_MAX_BYTES: String(MAX_BYTES), RELAY_POLL_INTERVAL_MS: '200' },
    });
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  it('publishes a backlog of large events in rounds of at most the byte bound, in order, one oversized event alone', async () => {
    const sizes = [300, 300, 300, 300, 3000, 300, 300, 300, 300, 300];
    const ids = sizes.map(() => newEventId());
    // a backlog committed at once, as after a broker outage
    await gw.schema.pool.query(
      `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
       SELECT $1, id, 1, 'batch.bytes', now(), jsonb_build_object('pad', repeat('x', size))
         FROM unnest($2::text[], $3::int[]) AS t(id, size)`,
      [gw.tenantId, ids, sizes],
    );
    await eventually(
      () => expect(tap.messages.map((m) => (m.body as { event_id: string }).event_id)).toEqual(ids),
      { timeoutMs: 10_000 },
    );
    // rows confirmed in one round share its published_rounds mark
    const rounds = await gw.schema.pool.query<{ n: number; bytes: number }>(
      `SELECT count(*)::int AS n, sum(pg_column_size(data))::int AS bytes
         FROM events e WHERE event_type = 'batch.bytes'
        GROUP BY (SELECT min(last_position) FROM published_rounds r
                   WHERE r.last_position >= e.stream_position)`,
    );
    expect(rounds.rows.length).toBeGreaterThan(1);
    for (const round of rounds.rows) {
      if (round.n > 1) expect(round.bytes).toBeLessThanOrEqual(MAX_BYTES);
    }
    expect(rounds.rows.some((r) => r.n > 1)).toBe(true);
  });
});
