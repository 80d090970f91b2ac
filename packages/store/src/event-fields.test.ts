import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestSchema, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { EventStore } from './event-store';
import { newEventId } from './ids';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrate';
import { StreamBackfillStore } from './stream-backfill';

const MIGRATION = '1733300000000_event_ordering_key_trace';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function row(tenantId: string, fields: Record<string, string> = {}) {
  return {
    tenantId,
    eventId: newEventId(),
    revision: 1,
    eventType: 'order.created',
    occurredAt: new Date('2026-01-02T03:04:05Z'),
    dataJson: '{"n":1}',
    ...fields,
  };
}

describe('the ordering key and trace context of an event', () => {
  let schema: TestSchema;
  let store: EventStore;

  beforeAll(async () => {
    schema = await createTestSchema('event fields');
    store = new EventStore(schema.pool, schema.schema);
  });

  afterAll(async () => {
    await schema.drop();
  });

  it('are stored by a batch insert and read back by the API, the relay and the stream backfill', async () => {
    const keyed = row('f1', {
      orderingKey: 'ord_456',
      traceparent: TRACEPARENT,
      tracestate: 'a=1',
    });
    const bare = row('f1');
    await store.insertBatch([keyed, bare], []);

    expect(await store.getCurrent('f1', keyed.eventId)).toMatchObject({
      orderingKey: 'ord_456',
      traceparent: TRACEPARENT,
      tracestate: 'a=1',
    });
    expect(await store.getCurrent('f1', bare.eventId)).toMatchObject({
      orderingKey: null,
      traceparent: null,
      tracestate: null,
    });
    const outbox = await store.unpublished(100);
    const keyedRow = outbox.find((r) => r.eventId === keyed.eventId);
    expect(keyedRow).toMatchObject({
      orderingKey: 'ord_456',
      traceparent: TRACEPARENT,
      tracestate: 'a=1',
    });
    const bareRow = outbox.find((r) => r.eventId === bare.eventId);
    expect(bareRow).toBeDefined();
    expect(bareRow).not.toHaveProperty('orderingKey');
    expect(bareRow).not.toHaveProperty('traceparent');

    const streamed = await new StreamBackfillStore(schema.pool).after('f1', '0', ['*'], 10);
    expect(streamed.map((e) => JSON.parse(e.json) as { ordering_key?: string })).toEqual([
      expect.objectContaining({ ordering_key: 'ord_456' }),
      expect.not.objectContaining({ ordering_key: expect.anything() }),
    ]);
  });

  it('a revision keeps the ordering key, takes the trace of its own request, and refuses another key', async () => {
    const keyed = row('f2', { orderingKey: 'k1', traceparent: TRACEPARENT });
    const bare = row('f2');
    await store.insertBatch([keyed, bare], []);

    const next = await store.insertRevision('f2', keyed.eventId, undefined, {
      dataJson: '{"n":2}',
    });
    expect(next).toMatchObject({ revision: 2, orderingKey: 'k1', traceparent: null });
    const same = await store.insertRevision('f2', keyed.eventId, 2, {
      dataJson: '{"n":3}',
      orderingKey: 'k1',
      trace: { traceparent: TRACEPARENT, tracestate: 'b=2' },
    });
    expect(same).toMatchObject({
      revision: 3,
      orderingKey: 'k1',
      traceparent: TRACEPARENT,
      tracestate: 'b=2',
    });

    expect(
      await store.insertRevision('f2', keyed.eventId, undefined, {
        dataJson: '{}',
        orderingKey: 'k2',
      }),
    ).toEqual({ immutableOrderingKey: 'k1' });
    expect(
      await store.insertRevision('f2', bare.eventId, undefined, {
        dataJson: '{}',
        orderingKey: 'k2',
      }),
    ).toEqual({ immutableOrderingKey: null });
    // nothing was stored by the refused updates
    expect((await store.getCurrent('f2', keyed.eventId))?.revision).toBe(3);
    expect((await store.getCurrent('f2', bare.eventId))?.revision).toBe(1);
  });

  it('the database refuses an ordering key the API would refuse', async () => {
    await expect(store.insertBatch([row('f3', { orderingKey: 'a b' })], [])).rejects.toMatchObject({
      code: '23514',
    });
    await expect(
      store.insertBatch([row('f3', { orderingKey: 'x'.repeat(129) })], []),
    ).rejects.toMatchObject({ code: '23514' });
    expect((await schema.pool.query("SELECT 1 FROM events WHERE tenant_id = 'f3'")).rowCount).toBe(
      0,
    );
  });
});

/** The group commit sends the batch's data as one JSON array, taken apart by position. */
describe('the data of a batch insert', () => {
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
    const rows = values.map((v) => row('b1', { dataJson: JSON.stringify(v) }));
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
      const rows = parts.map((p) => row('b2', { dataJson: p }));
      await expect(store.insertBatch(rows, [])).rejects.toMatchObject({
        code: expect.stringMatching(/^22/),
      });
    }
    const stored = await schema.pool.query(`SELECT 1 FROM events WHERE tenant_id = 'b2'`);
    expect(stored.rowCount).toBe(0);
  });
});

describe(`the migration ${MIGRATION}`, () => {
  it('keeps the rows stored before it, which read as events without a key or a trace', async () => {
    const old = await createTestSchema('ordering key migration', { migrate: false });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reten-migrations-'));
    const migrate = (d: string) =>
      runMigrations({
        databaseUrl: old.databaseUrl,
        schema: old.schema,
        log: silentLogger(),
        dir: d,
      });
    try {
      for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'))) {
        if (f < MIGRATION) copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
      }
      await migrate(dir);
      const before = row('m1');
      // a row as the schema before the migration stored it, published and unpublished
      await old.pool.query(
        `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
         VALUES ($1, $2, 1, 'order.created', $3, '{"n":1}'::jsonb)`,
        [before.tenantId, before.eventId, before.occurredAt],
      );

      expect(await migrate(DEFAULT_MIGRATIONS_DIR)).toContain(MIGRATION);
      const store = new EventStore(old.pool, old.schema);
      expect(await store.getCurrent('m1', before.eventId)).toMatchObject({
        revision: 1,
        data: { n: 1 },
        orderingKey: null,
        traceparent: null,
        tracestate: null,
      });
      const [outboxRow] = await store.unpublished(10);
      expect(outboxRow?.eventId).toBe(before.eventId);
      expect(outboxRow).not.toHaveProperty('orderingKey');
      const next = await store.insertRevision('m1', before.eventId, 1, { dataJson: '{"n":2}' });
      expect(next).toMatchObject({ revision: 2, orderingKey: null });

      const after = row('m1', { orderingKey: 'ord_1', traceparent: TRACEPARENT });
      await store.insertBatch([after], []);
      expect(await store.getCurrent('m1', after.eventId)).toMatchObject({
        orderingKey: 'ord_1',
        traceparent: TRACEPARENT,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await old.drop();
    }
  });
});
