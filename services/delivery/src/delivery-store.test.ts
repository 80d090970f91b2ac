import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { DeliveryStore } from './delivery-store';
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

  it('keeps in the history a request whose message was superseded, without changing the row', async () => {
    const row = await pendingRow();
    await store.recordAttempt(row, INITIAL_TOKEN, result(new Date(Date.now() - 1000)), done);
    // a second copy of the message sent the request again before it knew
    expect(await store.recordAttempt(row, INITIAL_TOKEN, result(new Date()), done)).toBeUndefined();
    expect(await history(row)).toEqual({ status: 'succeeded', attempts: 2, recorded: 2 });
  });
});
