import { EventTap, eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

const LINGER_MS = 1000;

describe('relay linger between rounds', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    gw = await startTestGateway('relay linger', { env: { RELAY_LINGER_MS: String(LINGER_MS) } });
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  const published = () => tap.messages.map((m) => (m.body as { event_id: string }).event_id);

  it('carries what commits during the linger in the next round, in commit order', async () => {
    const first = eventIdOf(await api(gw, 'POST', '/v1.0/event/linger.test', { i: 0 }));
    await eventually(() => expect(published()).toContain(first), { timeoutMs: 10_000 });
    // right after a round: these commit while the relay lingers, and go out in one round
    const rest = await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) =>
        eventIdOf(await api(gw, 'POST', '/v1.0/event/linger.test', { i })),
      ),
    );
    await eventually(() => expect(published()).toHaveLength(6), { timeoutMs: 10_000 });
    const rows = await gw.schema.pool.query<{ event_id: string; published_at: Date }>(
      `SELECT event_id, reten_published_at(stream_position, published_at) AS published_at
         FROM events WHERE event_type = 'linger.test' ORDER BY seq`,
    );
    // commit order is publish order
    expect(published()).toEqual(rows.rows.map((r) => r.event_id));
    expect(rows.rows[0]!.event_id).toBe(first);
    const later = rows.rows.slice(1);
    expect(later.map((r) => r.event_id).sort()).toEqual([...rest].sort());
    // one round for the five (one published_rounds mark: one time), a linger after the first
    expect(new Set(later.map((r) => r.published_at.getTime())).size).toBe(1);
    const gap = later[0]!.published_at.getTime() - rows.rows[0]!.published_at.getTime();
    expect(gap).toBeGreaterThanOrEqual(LINGER_MS - 50);
  });
});
