import { EventTap, eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

describe('relay woken after each ingest commit', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    // a poll a minute away: whatever is published sooner was woken by the NOTIFY after commit
    gw = await startTestGateway('relay wake', { env: { RELAY_POLL_INTERVAL_MS: '60000' } });
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  const published = () => tap.messages.map((m) => (m.body as { event_id: string }).event_id);

  it('publishes every committed batch without waiting for a poll, bursts and single events alike', async () => {
    for (let round = 0; round < 3; round += 1) {
      const burst = await Promise.all(
        Array.from({ length: 20 }, async (_, i) =>
          eventIdOf(await api(gw, 'POST', '/v1.0/event/wake.test', { round, i })),
        ),
      );
      await eventually(() => expect(published()).toEqual(expect.arrayContaining(burst)), {
        timeoutMs: 15_000,
      });
      const single = eventIdOf(await api(gw, 'POST', '/v1.0/event/wake.test', { round }));
      await eventually(() => expect(published()).toContain(single), { timeoutMs: 15_000 });
    }
    const rows = await gw.schema.pool.query<{ event_id: string }>(
      `SELECT event_id FROM events WHERE event_type = 'wake.test' ORDER BY seq`,
    );
    expect(published()).toEqual(rows.rows.map((r) => r.event_id));
  });
});
