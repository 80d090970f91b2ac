import { EventTap, eventually } from '@reten/testing';
import { newEventId } from '@reten/store';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';

describe('relay polling fallback', () => {
  let gw: TestGateway;
  let tap: EventTap;

  beforeAll(async () => {
    gw = await startTestGateway('relay polling', { env: { RELAY_POLL_INTERVAL_MS: '300' } });
    tap = await EventTap.open(gw.vhost.url);
  });

  afterAll(async () => {
    await tap?.close();
    await gw?.close();
  });

  it('publishes rows committed without a NOTIFY within the poll interval', async () => {
    const ids = [newEventId(), newEventId()];
    await gw.schema.pool.query(
      `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
       SELECT $1, id, 1, 'poll.test', now(), '{"silent": true}'::jsonb FROM unnest($2::text[]) AS id`,
      [gw.tenantId, ids],
    );
    await eventually(
      () => expect(tap.messages.map((m) => (m.body as { event_id: string }).event_id)).toEqual(ids),
      { timeoutMs: 5_000 },
    );
  });
});
