import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { EventStore } from './event-store';
import { newEventId } from './ids';
import { StreamBackfillStore } from './stream-backfill';

let schema: TestSchema;
let events: EventStore;
let backfill: StreamBackfillStore;

beforeAll(async () => {
  schema = await createTestSchema('stream backfill');
  events = new EventStore(schema.pool, schema.schema);
  backfill = new StreamBackfillStore(schema.pool);
});

afterAll(async () => {
  await schema.drop();
});

async function insert(
  tenantId: string,
  eventType: string,
  data: unknown,
): Promise<{ id: string; seq: string }> {
  const id = newEventId();
  const [seq] = await events.insertBatch(
    [
      {
        tenantId,
        eventId: id,
        revision: 1,
        eventType,
        occurredAt: new Date('2026-01-02T03:04:05Z'),
        dataJson: JSON.stringify(data),
      },
    ],
    [],
  );
  if (!seq) throw new Error('no seq');
  return { id, seq };
}

describe('StreamBackfillStore', () => {
  it('pages a tenant’s events after a seq in seq order, with matching types only, as envelope JSON', async () => {
    const a = await insert('t1', 'order.created', { n: 1 });
    const b = await insert('t1', 'order.created', { n: 2 });
    await insert('t2', 'order.created', { n: 3 });
    await insert('t1', 'user.created', { n: 4 });
    const c = await insert('t1', 'log:ClientLog', { n: 5 });
    const page1 = await backfill.after('t1', a.seq, ['order.*', 'log:ClientLog'], 1);
    expect(page1.map((e) => e.eventId)).toEqual([b.id]);
    const page2 = await backfill.after('t1', b.seq, ['order.*', 'log:ClientLog'], 10);
    expect(page2.map((e) => e.eventId)).toEqual([c.id]);
    expect(JSON.parse(page2[0]?.json ?? '')).toEqual({
      event_id: c.id,
      event_type: 'log:ClientLog',
      timestamp: '2026-01-02T03:04:05.000Z',
      revision: 1,
      data: { n: 5 },
    });
    expect((await backfill.after('t1', '0', ['*'], 100)).length).toBeGreaterThanOrEqual(4);
  });

  it('treats _ and % in a filter literally, as the type pattern says', async () => {
    const start = await backfill.latestSeq('t3');
    const exact = await insert('t3', 'a_b', {});
    await insert('t3', 'axb', {});
    expect((await backfill.after('t3', start, ['a_b'], 10)).map((e) => e.eventId)).toEqual([
      exact.id,
    ]);
  });

  it('finds the position of an event of the tenant (its first revision by default, or the one named)', async () => {
    const e = await insert('t4', 'doc.saved', { v: 1 });
    const rev2 = await events.insertRevision('t4', e.id, 1, { dataJson: '{"v":2}' });
    if (typeof rev2 !== 'object' || !('seq' in rev2)) throw new Error('no revision');
    expect((await backfill.position('t4', e.id, undefined))?.seq).toBe(e.seq);
    expect((await backfill.position('t4', e.id, 2))?.seq).toBe(rev2.seq);
    expect(await backfill.position('t4', e.id, 3)).toBeUndefined();
    expect(await backfill.position('other', e.id, undefined)).toBeUndefined();
  });

  it('answers the tenant’s newest seq, "0" for a tenant without events', async () => {
    const e = await insert('t5', 'x', {});
    expect(await backfill.latestSeq('t5')).toBe(e.seq);
    expect(await backfill.latestSeq('nobody')).toBe('0');
  });
});
