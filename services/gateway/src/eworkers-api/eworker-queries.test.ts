import { encodeEventReplay } from '@reten/broker';
import { MESSAGE_HEADERS } from '@reten/contracts';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';
import { EworkerQueries } from './eworker-queries';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the parked events of an eworker', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('eworker parked fields');
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('are replayed with their ordering key and trace context, as the relay published them', async () => {
    const res = await api(
      gw,
      'POST',
      '/v1.0/event/order.parked',
      { n: 1 },
      {
        headers: { 'Reten-Ordering-Key': 'kp', traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      },
    );
    const id = eventIdOf(res);
    await gw.schema.pool.query(
      `INSERT INTO eworker_marks (eworker, event_id, revision, tenant_id, event_type, status)
       VALUES ('orders', $1, 1, $2, 'order.parked', 'failed')`,
      [id, gw.tenantId],
    );

    const [row] = await new EworkerQueries(gw.schema.pool).parked(gw.tenantId, 'orders', 10);
    if (!row) throw new Error('no parked row');
    expect(row).toMatchObject({ eventId: id, orderingKey: 'kp' });
    expect(row.traceparent).toContain(TRACE_ID);
    const replay = encodeEventReplay(row, 'reten.eworker.orders');
    expect(replay.options.headers).toMatchObject({
      [MESSAGE_HEADERS.orderingKey]: 'kp',
      [MESSAGE_HEADERS.traceparent]: row.traceparent,
    });
    expect(replay.content.toString('utf8')).toContain('"ordering_key":"kp","data":');
  });
});
