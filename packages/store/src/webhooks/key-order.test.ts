import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { newEventId } from '../ids';
import { DeliveryKeyOrder } from './key-order';

let schema: TestSchema;
let order: DeliveryKeyOrder;
let seq = 0;

beforeAll(async () => {
  schema = await createTestSchema('delivery key order');
  order = new DeliveryKeyOrder(schema.pool, schema.schema);
  for (const id of ['wh_a', 'wh_b']) {
    await schema.pool.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, secret) VALUES ($1, 't', 'https://example.com/', 'whsec_x')`,
      [id],
    );
  }
});

afterAll(async () => {
  await schema?.drop();
});

const eventOf = new Map<string, string>();

/** Inserts a delivery of a new event (the next seq) and returns its id. */
async function delivery(
  endpointId: string,
  orderingKey: string | null,
  status = 'pending',
  holdsKey = false,
): Promise<string> {
  seq += 1;
  const id = `dlv_${seq}`;
  const eventId = newEventId();
  eventOf.set(id, eventId);
  await schema.pool.query(
    `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type,
       event_seq, token, status, ordering_key, holds_key)
     VALUES ($1, 't', $2, $3, 1, 'x', $4, 'initial', $5, $6, $7)`,
    [id, endpointId, eventId, seq, status, orderingKey, holdsKey],
  );
  return id;
}

async function row(id: string) {
  const res = await schema.pool.query<{
    status: string;
    token: string | null;
    dispatch_requested_at: Date | null;
  }>('SELECT status, token, dispatch_requested_at FROM webhook_deliveries WHERE id = $1', [id]);
  return res.rows[0];
}

describe('DeliveryKeyOrder', () => {
  it('holds a delivery behind an earlier unfinished one of its key to the same endpoint only', async () => {
    const head = await delivery('wh_a', 'k1', 'retrying');
    const next = await delivery('wh_a', 'k1');
    const otherKey = await delivery('wh_a', 'k2');
    const otherEndpoint = await delivery('wh_b', 'k1');
    const noKey = await delivery('wh_a', null);
    const held = await order.holdUnlessHead(
      [head, next, otherKey, otherEndpoint, noKey].map((deliveryId) => ({
        deliveryId,
        eventId: eventOf.get(deliveryId) ?? '',
        token: 'initial',
      })),
    );
    expect(held).toEqual([
      undefined,
      { endpointId: 'wh_a', orderingKey: 'k1' },
      undefined,
      undefined,
      undefined,
    ]);
    expect(await row(next)).toMatchObject({ status: 'held', token: null });
    // a token that is no longer the row's holds nothing
    const later = await delivery('wh_a', 'k1');
    const stale = { deliveryId: later, eventId: eventOf.get(later) ?? '', token: 'stale' };
    expect(await order.holdUnlessHead([stale])).toEqual([undefined]);
  });

  it('releases the next held delivery once the head of its key has ended, not before', async () => {
    const head = await delivery('wh_a', 'k3', 'retrying');
    const a = await delivery('wh_a', 'k3', 'held');
    const b = await delivery('wh_a', 'k3', 'held');
    expect(await order.release([{ endpointId: 'wh_a', orderingKey: 'k3' }])).toBe(0);
    await schema.pool.query(`UPDATE webhook_deliveries SET status = 'succeeded' WHERE id = $1`, [
      head,
    ]);
    expect(await order.release([{ endpointId: 'wh_a', orderingKey: 'k3' }])).toBe(1);
    expect(await row(a)).toMatchObject({ status: 'pending', token: expect.any(String) });
    expect((await row(a))?.dispatch_requested_at).not.toBeNull();
    expect(await row(b)).toMatchObject({ status: 'held' });
    // released again: nothing more moves while `a` is unfinished
    expect(await order.release([{ endpointId: 'wh_a', orderingKey: 'k3' }])).toBe(0);
  });

  it('keeps a key held by a failed delivery that holds it (block), and lets it go once it does not', async () => {
    const failed = await delivery('wh_b', 'k4', 'failed', true);
    const next = await delivery('wh_b', 'k4', 'held');
    expect(await order.releaseAll(100)).toBe(0);
    expect(await row(next)).toMatchObject({ status: 'held' });
    await order.setHoldsKey({ id: failed, eventId: eventOf.get(failed) ?? '' }, 'initial', false);
    expect(await order.releaseAll(100)).toBe(1);
    expect(await row(next)).toMatchObject({ status: 'pending' });
  });
});
