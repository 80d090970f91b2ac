import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { EventStore } from './event-store';
import { newEventId } from './ids';

function row(tenantId: string, dataJson: string) {
  return {
    tenantId,
    eventId: newEventId(),
    revision: 1,
    eventType: 'order.created',
    occurredAt: new Date('2026-01-02T03:04:05Z'),
    dataJson,
  };
}

/** The group commit sends the batch's data as one JSON array, taken apart by position. */
describe('EventStore.insertBatch: the events’ data', () => {
  let schema: TestSchema;
  let store: EventStore;

  beforeAll(async () => {
    schema = await createTestSchema('event store batch data');
    store = new EventStore(schema.pool, schema.schema);
  });

  afterAll(async () => {
    await schema.drop();
  });

  it('stores each event’s own data, whatever it holds, in the order given', async () => {
    const values: unknown[] = [
      { a: 'quote " backslash \\ comma , braces {} [] newline \n tab \t' },
      { unicode: 'é 中 😀', nested: { list: [1, 2, { x: null }] } },
      [1, 'two', false, null],
      'a string, with "quotes"',
      42.5,
      null,
      true,
      {},
      [],
      { NULL: 'NULL', '': '' },
    ];
    const rows = values.map((v) => row('b1', JSON.stringify(v)));
    const seqs = await store.insertBatch(rows, []);
    expect(seqs).toHaveLength(values.length);
    const stored = await schema.pool.query<{ event_id: string; data: unknown; seq: string }>(
      `SELECT event_id, data, seq FROM events WHERE tenant_id = 'b1' ORDER BY seq`,
    );
    expect(stored.rows.map((r) => r.event_id)).toEqual(rows.map((r) => r.eventId));
    expect(stored.rows.map((r) => r.data)).toEqual(values);
    expect(stored.rows.map((r) => r.seq)).toEqual(seqs);
  });

  it('refuses, as a data exception, data that is not one JSON value per event, and stores nothing', async () => {
    for (const parts of [
      ['1,2', '3'], // joins into three values for two events
      ['{"a":1}', ''], // an empty one
      ['{"not json":', '1}'], // joins into one value
      ['{"not json":'],
    ]) {
      const rows = parts.map((p) => row('b2', p));
      await expect(store.insertBatch(rows, [])).rejects.toMatchObject({
        code: expect.stringMatching(/^22/),
      });
    }
    const stored = await schema.pool.query(`SELECT 1 FROM events WHERE tenant_id = 'b2'`);
    expect(stored.rowCount).toBe(0);
  });
});
