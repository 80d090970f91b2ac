import { createPool, deliveryIdOf } from '@reten/store';
import type { Pool } from '@reten/store';
import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { DeliveryStore, createHotPathPool } from './delivery-store';
import type { DeliveryRow } from './endpoint';
import { INITIAL_TOKEN } from './endpoint';
import type { AttemptResult } from './retry-policy';

const result = (startedAt: Date): AttemptResult => ({
  startedAt,
  latencyMs: 12,
  succeeded: true,
  statusCode: 204,
  phase: null,
  error: null,
  responseExcerpt: '',
  retryAfterMs: null,
});

/**
 * A scan count of `pg_stat_user_tables` so far (sequential scans, the rows they read, or the
 * rows fetched through indexes), summed over the schema's tables named `prefix…`, as counted by
 * `pool`'s one session (flushed first).
 */
async function scanStat(
  pool: Pool,
  schema: string,
  column: 'seq_scan' | 'seq_tup_read' | 'idx_tup_fetch',
  prefix: string,
): Promise<number> {
  await pool.query('SELECT pg_stat_force_next_flush()');
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const res = await pool.query<{ n: string }>(
    `SELECT coalesce(sum(${column}), 0) AS n FROM pg_stat_user_tables
      WHERE schemaname = $1 AND relname LIKE $2`,
    [schema, `${prefix}%`],
  );
  return Number(res.rows[0]!.n);
}

describe('DeliveryStore.recordAttempt', () => {
  let schema: TestSchema;
  let store: DeliveryStore;
  let n = 0;

  beforeAll(async () => {
    schema = await createTestSchema('delivery store');
    store = new DeliveryStore(schema.pool, schema.schema);
  });
  afterAll(async () => {
    await schema?.drop();
  });

  /** A pending delivery row of a fresh endpoint. */
  async function pendingRow(): Promise<DeliveryRow> {
    const endpointId = `wh_store${++n}`;
    await schema.pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret)
       VALUES ($1, 'store', 'http://127.0.0.1:1/x', '{}', 'whsec_x')`,
      [endpointId],
    );
    const [row] = await store.ensureDeliveries(
      'store',
      { eventId: `evt_store${n}`, revision: 1, eventType: 'store.x', seq: String(n) },
      [endpointId],
    );
    return row!;
  }

  const history = async (row: DeliveryRow) => {
    const d = await schema.pool.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM webhook_deliveries WHERE id = $1',
      [row.id],
    );
    const a = await schema.pool.query('SELECT 1 FROM webhook_attempts WHERE delivery_id = $1', [
      row.id,
    ]);
    return { ...d.rows[0], recorded: a.rowCount };
  };

  const done = { status: 'succeeded' as const, token: null, nextAttemptAt: null };

  it('stores an attempt once when the same record is repeated after its answer was lost', async () => {
    const row = await pendingRow();
    const attempt = result(new Date());
    expect(await store.recordAttempt(row, INITIAL_TOKEN, attempt, done)).toEqual({
      failingSince: null,
    });
    expect(await store.recordAttempt(row, INITIAL_TOKEN, attempt, done)).toBeUndefined();
    expect(await history(row)).toEqual({ status: 'succeeded', attempts: 1, recorded: 1 });
  });

  /** A delivery of a fresh endpoint with no row stored, as a first attempt sees it. */
  async function unsavedRow(): Promise<DeliveryRow> {
    const stored = await pendingRow();
    await schema.pool.query('DELETE FROM webhook_deliveries WHERE id = $1', [stored.id]);
    return { ...stored, unsaved: true };
  }

  it('stores an unsaved first attempt as one inserted row, never updated, under its id', async () => {
    const row = await unsavedRow();
    expect(await store.recordAttempt(row, INITIAL_TOKEN, result(new Date()), done)).toEqual({
      failingSince: null,
    });
    expect(await history(row)).toEqual({ status: 'succeeded', attempts: 1, recorded: 1 });
    // xmax 0: no update (nor lock) ever touched the row version the insert made
    const version = await schema.pool.query<{ xmax: string }>(
      'SELECT xmax::text FROM webhook_deliveries WHERE id = $1',
      [row.id],
    );
    expect(version.rows[0]!.xmax).toBe('0');
  });

  it('stores an unsaved first attempt once when it is repeated after its answer was lost', async () => {
    const row = await unsavedRow();
    const attempt = result(new Date());
    await store.recordAttempt(row, INITIAL_TOKEN, attempt, done);
    expect(await store.recordAttempt(row, INITIAL_TOKEN, attempt, done)).toBeUndefined();
    expect(await history(row)).toEqual({ status: 'succeeded', attempts: 1, recorded: 1 });
  });

  it('stores an unsaved first attempt on the row stored meanwhile (a slow request, another copy)', async () => {
    const row = await unsavedRow();
    const saved = await store.saveRow(row);
    expect(saved).toMatchObject({ id: row.id, status: 'pending', token: INITIAL_TOKEN });
    expect(saved?.unsaved).toBeUndefined();
    expect(await store.recordAttempt(row, INITIAL_TOKEN, result(new Date()), done)).toEqual({
      failingSince: null,
    });
    expect(await history(row)).toEqual({ status: 'succeeded', attempts: 1, recorded: 1 });
    // a copy that sent it again before it knew: kept in the history, the row left as it is
    const again = await store.recordAttempt(row, INITIAL_TOKEN, result(new Date()), done);
    expect(again).toBeUndefined();
    expect(await history(row)).toEqual({ status: 'succeeded', attempts: 2, recorded: 2 });
  });

  it('stores an unsaved first attempt on the row of its delivery stored under another id', async () => {
    // the same endpoint, event and revision stored under another id (a copy of the message
    // that carried another acceptance time): the insert stops at the delivery's key
    const stored = await pendingRow();
    const row = {
      ...stored,
      id: deliveryIdOf(stored.endpointId, stored.eventId, 1, 1_000),
      unsaved: true,
    };
    expect(row.id).not.toBe(stored.id);
    expect(await store.recordAttempt(row, INITIAL_TOKEN, result(new Date()), done)).toEqual({
      failingSince: null,
    });
    expect(await history(stored)).toEqual({ status: 'succeeded', attempts: 1, recorded: 1 });
    const other = await schema.pool.query('SELECT 1 FROM webhook_deliveries WHERE id = $1', [
      row.id,
    ]);
    expect(other.rowCount).toBe(0);
  });

  it('finds the stored rows of an event revision, and none of the endpoints without one', async () => {
    const row = await pendingRow();
    const event = { eventId: row.eventId, revision: 1, eventType: 'store.x', seq: row.eventSeq };
    expect(await store.existingDeliveries('store', event, [row.endpointId, 'wh_none'])).toEqual([
      row,
    ]);
    expect(await store.existingDeliveries('other', event, [row.endpointId])).toEqual([]);
    expect(
      await store.existingDeliveries('store', { ...event, revision: 2 }, [row.endpointId]),
    ).toEqual([]);
  });

  it('keeps in the history a request whose message was superseded, without changing the row', async () => {
    const row = await pendingRow();
    await store.recordAttempt(row, INITIAL_TOKEN, result(new Date(Date.now() - 1000)), done);
    // a second copy of the message sent the request again before it knew
    expect(await store.recordAttempt(row, INITIAL_TOKEN, result(new Date()), done)).toBeUndefined();
    expect(await history(row)).toEqual({ status: 'succeeded', attempts: 2, recorded: 2 });
  });
});

describe('DeliveryStore statements', () => {
  let schema: TestSchema;
  let pool: Pool;

  beforeAll(async () => {
    schema = await createTestSchema('delivery store plans');
    // one connection: its prepared statements are the ones the store made
    pool = createPool({
      databaseUrl: schema.databaseUrl,
      schema: schema.schema,
      max: 1,
      statementTimeoutMs: 10_000,
      applicationName: 'delivery-store-plans-test',
    });
  });
  afterAll(async () => {
    await pool?.end();
    await schema?.drop();
  });

  it('plans its ensure and record statements once per connection, not for every small batch', async () => {
    const store = new DeliveryStore(pool, schema.schema);
    await pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret)
       VALUES ('wh_plans', 'plans', 'http://127.0.0.1:1/x', '{}', 'whsec_x')`,
    );
    for (let n = 0; n < 8; n++) {
      // one delivery at a time: a batch of one, one statement of each kind
      const [row] = await store.ensureDeliveries(
        'plans',
        { eventId: `evt_plans${n}`, revision: 1, eventType: 'plans.x', seq: String(n) },
        ['wh_plans'],
      );
      await store.recordAttempt(row!, INITIAL_TOKEN, result(new Date()), {
        status: 'succeeded',
        token: null,
        nextAttemptAt: null,
      });
    }
    const plans = await pool.query<{ statement: string; generic: string; custom: string }>(
      `SELECT statement, generic_plans AS generic, custom_plans AS custom
         FROM pg_prepared_statements WHERE statement LIKE '%webhook_deliveries%'`,
    );
    expect(plans.rows.length).toBe(2);
    // PostgreSQL plans the first five executions of a named statement for their parameters;
    // then it keeps the generic plan unless a custom plan looks cheaper (planned every time)
    for (const p of plans.rows) expect(Number(p.generic)).toBeGreaterThan(0);
  });

  it('records attempts without reading through the stored attempts', async () => {
    const store = new DeliveryStore(pool, schema.schema);
    await pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret)
       VALUES ('wh_scan', 'plans', 'http://127.0.0.1:1/x', '{}', 'whsec_x')`,
    );
    const scans = () => scanStat(pool, schema.schema, 'seq_scan', 'webhook_attempts');
    const attempt = async (n: number) => {
      const [row] = await store.ensureDeliveries(
        'plans',
        { eventId: `evt_scan${n}`, revision: 1, eventType: 'plans.x', seq: String(n) },
        ['wh_scan'],
      );
      await store.recordAttempt(row!, INITIAL_TOKEN, result(new Date()), {
        status: 'succeeded',
        token: null,
        nextAttemptAt: null,
      });
    };
    for (let n = 0; n < 10; n++) await attempt(n); // past the first five (custom) plans
    const before = await scans();
    for (let n = 10; n < 20; n++) await attempt(n);
    // a lookup of an earlier try of the same attempt is needed only for a superseded row
    expect((await scans()) - before).toBe(0);
  });
});

describe('DeliveryStore on tables that grow from empty', () => {
  let schema: TestSchema;
  let hotPool: Pool;

  beforeAll(async () => {
    schema = await createTestSchema('delivery store growth');
    hotPool = createHotPathPool({
      databaseUrl: schema.databaseUrl,
      schema: schema.schema,
      statementTimeoutMs: 10_000,
      applicationName: 'delivery-store-growth-test',
      // one connection: the statistics it flushes are all there is to read
      max: 1,
    });
  });
  afterAll(async () => {
    await hotPool?.end();
    await schema?.drop();
  });

  it('keeps finding delivery rows by index after its plans were made on empty tables', async () => {
    const store = new DeliveryStore(schema.pool, schema.schema, hotPool);
    await schema.pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret)
       VALUES ('wh_grow', 'grow', 'http://127.0.0.1:1/x', '{}', 'whsec_x')`,
    );
    let n = 0;
    /** `size` deliveries ensured together, then recorded together (one statement of each). */
    const batch = async (size: number) => {
      const rows = await Promise.all(
        Array.from({ length: size }, () => {
          n += 1;
          return store.ensureDeliveries(
            'grow',
            {
              eventId: `evt_grow${String(n).padStart(6, '0')}`,
              revision: 1,
              eventType: 'x',
              seq: String(n),
            },
            ['wh_grow'],
          );
        }),
      );
      await Promise.all(
        rows.map(([row]) =>
          store.recordAttempt(row!, INITIAL_TOKEN, result(new Date()), {
            status: 'succeeded',
            token: null,
            nextAttemptAt: null,
          }),
        ),
      );
    };
    /** Rows the delivery tables' scans read so far, sequential or through an index. */
    const rowsRead = async () =>
      (await scanStat(hotPool, schema.schema, 'seq_tup_read', 'webhook_deliveries')) +
      (await scanStat(hotPool, schema.schema, 'idx_tup_fetch', 'webhook_deliveries'));
    // the plans are made while the tables hold a few rows (past the first five custom plans)
    for (let b = 0; b < 8; b++) await batch(2);
    // the tables grow as a running service makes them grow (nothing analyzes them meanwhile)
    await schema.pool.query(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type,
                                       event_seq, status, attempts)
       SELECT 'dlv_fill' || g, 'grow', 'wh_grow', 'evt_fill' || lpad(g::text, 6, '0'), 1, 'x', g,
              'succeeded', 1
         FROM generate_series(1, 5000) g`,
    );
    const before = await rowsRead();
    for (let b = 0; b < 10; b++) await batch(2);
    // by index, each statement reads the rows of its batch; a plan made for a few rows hashes
    // all 5,000 (and more) for each batch
    expect((await rowsRead()) - before).toBeLessThan(10 * 20);
  });
});
