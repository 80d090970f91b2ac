import { createTestSchema, eventually } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { ENDPOINT_DISABLED_EVENT_TYPE } from '@reten/contracts';
import { SystemEventStore } from '../system-events';
import { DeliveryAttemptRepo } from './delivery-attempts';
import type { RecordItem } from './delivery-attempts';
import type { DeliveryRow } from './webhook-rows';
import { WebhookDeliveryRepo } from './delivery-repo';
import { WebhookEndpointRepo } from './endpoint-repo';
import { sweepEndpointTombstones } from './endpoint-tombstones';
import type { NewEndpoint } from './endpoint-repo';
import { newEventId } from '../ids';

let schema: TestSchema;
let endpoints: WebhookEndpointRepo;
let deliveries: WebhookDeliveryRepo;
let attempts: DeliveryAttemptRepo;
let ids = 0;

beforeAll(async () => {
  schema = await createTestSchema('webhook repos');
  endpoints = new WebhookEndpointRepo(schema.pool);
  deliveries = new WebhookDeliveryRepo(schema.pool, schema.schema, () => `dlv_${(ids += 1)}`);
  attempts = new DeliveryAttemptRepo(schema.pool);
});

afterAll(async () => {
  await schema?.drop();
});

function newEndpoint(id: string, tenantId: string): NewEndpoint {
  return {
    id,
    tenantId,
    url: 'https://example.com/hook',
    description: '',
    eventTypes: [],
    enabled: true,
    rateLimitPerSecond: 10,
    headers: {},
    retryScheduleSeconds: null,
    signing: 'hmac',
    secret: 'whsec_test',
    publicKey: null,
    privateKey: null,
    onFailure: 'skip',
  };
}

/** An attempt of `row` that succeeded, as the delivery service records it. */
function succeededAttempt(row: DeliveryRow): RecordItem {
  return {
    row,
    expectedToken: row.token,
    result: {
      startedAt: new Date(),
      latencyMs: 5,
      succeeded: true,
      statusCode: 204,
      phase: null,
      error: null,
      responseExcerpt: null,
    },
    outcome: { status: 'succeeded', token: null, nextAttemptAt: null },
  };
}

/** Resolves once a backend waits for a lock that backend `pid` holds. */
async function blocksAnother(pid: number): Promise<void> {
  await eventually(async () => {
    const blocked = await schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
      [pid],
    );
    expect(blocked.rows[0]!.n).toBeGreaterThan(0);
  });
}

describe('the webhook repositories', () => {
  it("never show or change one tenant's endpoint to another tenant", async () => {
    await endpoints.create(newEndpoint('we_iso', 'acme'));
    expect(await endpoints.get('acme', 'we_iso')).toMatchObject({ id: 'we_iso' });
    expect(await endpoints.get('other', 'we_iso')).toBeUndefined();
    expect(await endpoints.list('other', undefined, 10)).toEqual([]);
    expect(
      await endpoints.update('other', 'we_iso', { url: 'https://evil.test/' }),
    ).toBeUndefined();
    expect(await endpoints.rotateSecret('other', 'we_iso', 'whsec_new', 0)).toBeUndefined();
    expect(await endpoints.delete('other', 'we_iso')).toBe(false);
    expect(await endpoints.endpointsOf('other')).toEqual([]);
    const [mine] = await endpoints.endpointsOf('acme');
    expect(mine).toMatchObject({
      id: 'we_iso',
      url: 'https://example.com/hook',
      secret: 'whsec_test',
    });
  });

  it("never show, retry or count one tenant's deliveries for another tenant", async () => {
    await endpoints.create(newEndpoint('we_dlv', 'acme'));
    const [created] = await attempts.ensureMany([
      {
        tenantId: 'acme',
        event: { eventId: 'evt_iso', revision: 1, eventType: 'a.b', seq: '1' },
        endpointIds: ['we_dlv'],
      },
    ]);
    const row = created?.[0];
    if (!row) throw new Error('no delivery row created');
    await attempts.recordMany([succeededAttempt(row)]);
    expect(await deliveries.get('acme', row.id)).toMatchObject({ status: 'succeeded' });
    expect(await deliveries.get('other', row.id)).toBeUndefined();
    expect(await deliveries.list('other', 'we_dlv', { limit: 10 })).toEqual([]);
    expect(await deliveries.requestRetry('other', row.id)).toBeUndefined();
    expect(await deliveries.statusOfEvent('other', 'evt_iso', 1)).toEqual([]);
    expect((await deliveries.stats('acme', 'we_dlv')).attempts).toBe(1);
    expect((await deliveries.stats('other', 'we_dlv')).attempts).toBe(0);
  });

  it('disable an endpoint and emit its event in its own tenant, once', async () => {
    await endpoints.create(newEndpoint('we_off', 'acme'));
    const systemEvents = new SystemEventStore(schema.pool, schema.schema);
    expect(await systemEvents.disableEndpoint('we_off', 'answered 410 Gone')).toBe(true);
    expect(await systemEvents.disableEndpoint('we_off', 'answered 410 Gone')).toBe(false);
    expect(await endpoints.get('acme', 'we_off')).toMatchObject({
      enabled: false,
      disabled_reason: 'answered 410 Gone',
    });
    const events = await schema.pool.query<{ tenant_id: string; data: unknown }>(
      'SELECT tenant_id, data FROM events WHERE event_type = $1',
      [ENDPOINT_DISABLED_EVENT_TYPE],
    );
    expect(events.rows).toEqual([
      {
        tenant_id: 'acme',
        data: {
          webhook_id: 'we_off',
          url: 'https://example.com/hook',
          reason: 'answered 410 Gone',
        },
      },
    ]);
  });

  it('deletes an endpoint whose deliveries another transaction is updating in another order (a deadlock is retried)', async () => {
    await endpoints.create(newEndpoint('we_deadlock', 'acme'));
    for (const id of ['dlv_dl_first', 'dlv_dl_last']) {
      await schema.pool.query(
        `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, revision, event_type, event_seq)
         VALUES ($1, 'acme', 'we_deadlock', $2, 1, 't', 1)`,
        [id, newEventId()],
      );
    }
    // as the delivery service recording two outcomes: the last row first, then the first
    const writer = await schema.pool.connect();
    try {
      const { rows } = await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const writerPid = rows[0]!.pid;
      await writer.query('BEGIN');
      await writer.query(`UPDATE webhook_deliveries SET attempts = 1 WHERE id = 'dlv_dl_last'`);
      // the delete removes the first row, then waits for the last one
      const deleted = endpoints.delete('acme', 'we_deadlock');
      await blocksAnother(writerPid);
      // now the writer waits for the first row: one of the two is aborted as a deadlock
      const second = writer
        .query(`UPDATE webhook_deliveries SET attempts = 1 WHERE id = 'dlv_dl_first'`)
        .then(
          () => 'updated',
          (err: { code?: string }) => err.code,
        );
      const outcome = await second;
      await writer.query(outcome === 'updated' ? 'COMMIT' : 'ROLLBACK');
      expect(await deleted).toBe(true);
    } finally {
      writer.release();
    }
    const left = await schema.pool.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = 'we_deadlock'`,
    );
    expect(left.rows[0]).toEqual({ n: 0 });
    expect(await endpoints.get('acme', 'we_deadlock')).toBeUndefined();
  });

  /** A first attempt (its row not stored yet) to `endpointId`, succeeded. */
  function firstAttempt(endpointId: string, tenantId: string): RecordItem {
    const eventId = newEventId();
    const row: DeliveryRow = {
      id: `dlv_first_${(ids += 1)}`,
      tenantId,
      endpointId,
      eventId,
      revision: 1,
      eventType: 't',
      eventSeq: String(ids),
      status: 'pending',
      attempts: 0,
      token: 'initial',
      unsaved: true,
    };
    return succeededAttempt(row);
  }

  const rowsOf = async (endpointId: string) =>
    (
      await schema.pool.query<{ deliveries: number; attempts: number }>(
        `SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE endpoint_id = $1) AS deliveries,
                (SELECT count(*)::int FROM webhook_attempts WHERE endpoint_id = $1) AS attempts`,
        [endpointId],
      )
    ).rows[0];

  it('stores a batch of first attempts whose endpoint was deleted meanwhile, but for that endpoint', async () => {
    await endpoints.create(newEndpoint('we_batch_live', 'acme'));
    await endpoints.create(newEndpoint('we_batch_gone', 'acme'));
    const live = firstAttempt('we_batch_live', 'acme');
    const gone = firstAttempt('we_batch_gone', 'acme');
    expect(await endpoints.delete('acme', 'we_batch_gone')).toBe(true);
    // one statement: the deleted endpoint's item must not fail the others
    const stored = await attempts.recordFirstMany([gone, live]);
    expect(stored).toEqual([undefined, { failingSince: null }]);
    // and the row it would be stored on next (DeliveryStore.saveRow) is not made either
    const ensured = await attempts.ensureMany([
      {
        tenantId: 'acme',
        event: { eventId: gone.row.eventId, revision: 1, eventType: 't', seq: '1' },
        endpointIds: ['we_batch_gone'],
      },
      {
        tenantId: 'acme',
        event: { eventId: newEventId(), revision: 1, eventType: 't', seq: '2' },
        endpointIds: ['we_batch_live'],
      },
    ]);
    expect(ensured.map((rows) => rows.length)).toEqual([0, 1]);
    expect(await rowsOf('we_batch_gone')).toEqual({ deliveries: 0, attempts: 0 });
    expect(await rowsOf('we_batch_live')).toEqual({ deliveries: 2, attempts: 1 });
  });

  it('inserts a batch of fresh first attempts, and one whose row exists after all as before (the statement runs again with the check)', async () => {
    await endpoints.create(newEndpoint('we_fresh', 'acme'));
    const fresh = (item: RecordItem): RecordItem => ({
      ...item,
      row: { ...item.row, fresh: true },
    });
    const a = fresh(firstAttempt('we_fresh', 'acme'));
    const b = fresh(firstAttempt('we_fresh', 'acme'));
    expect(await attempts.recordFirstMany([a, b])).toEqual([
      { failingSince: null },
      { failingSince: null },
    ]);
    expect(await rowsOf('we_fresh')).toEqual({ deliveries: 2, attempts: 2 });
    // a row made meanwhile (a replay, a slow request's row, a lost answer's commit)
    const c = fresh(firstAttempt('we_fresh', 'acme'));
    const d = fresh(firstAttempt('we_fresh', 'acme'));
    const made = await attempts.ensureMany([
      {
        tenantId: 'acme',
        event: { eventId: d.row.eventId, revision: 1, eventType: 't', seq: d.row.eventSeq },
        endpointIds: ['we_fresh'],
        ids: [d.row.id],
      },
    ]);
    expect(made[0]).toHaveLength(1);
    // the other item of the batch is stored all the same, the existing row is left to recordMany
    expect(await attempts.recordFirstMany([c, d])).toEqual([{ failingSince: null }, undefined]);
    expect(await rowsOf('we_fresh')).toEqual({ deliveries: 4, attempts: 3 });
    // and a retry of a call whose answer was lost finds its rows: nothing stored twice
    expect(await attempts.recordFirstMany([a])).toEqual([undefined]);
    expect(await rowsOf('we_fresh')).toEqual({ deliveries: 4, attempts: 3 });
  });

  it('does not wait for a batch that found the endpoint before its deletion: the tombstone sweep deletes what it stored, after the grace', async () => {
    await endpoints.create(newEndpoint('we_raced', 'acme'));
    const item = firstAttempt('we_raced', 'acme');
    const writer = await schema.pool.connect();
    try {
      // a batch of the delivery service that found the endpoint, not committed yet
      await writer.query('BEGIN');
      const batch = new DeliveryAttemptRepo(writer as unknown as typeof schema.pool);
      expect(await batch.recordFirstMany([item])).toEqual([{ failingSince: null }]);
      // the batch holds no lock the delete needs: the delete ends while the batch is open
      expect(await endpoints.delete('acme', 'we_raced')).toBe(true);
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    // the batch's rows outlive the delete, and the API does not show them
    expect(await rowsOf('we_raced')).toEqual({ deliveries: 1, attempts: 1 });
    expect(await deliveries.get('acme', item.row.id)).toBeUndefined();
    // a batch after the delete stores nothing of it
    expect(await attempts.recordFirstMany([firstAttempt('we_raced', 'acme')])).toEqual([undefined]);
    // within the grace the tombstone keeps them (a batch that found it may still be running)
    expect(await sweepEndpointTombstones(schema.pool, 60_000)).toEqual({ tombstones: 0, rows: 0 });
    expect(await rowsOf('we_raced')).toEqual({ deliveries: 1, attempts: 1 });
    // past it they go, with the tombstones (this file's other deleted endpoints left no rows)
    const swept = await sweepEndpointTombstones(schema.pool, 0);
    expect(swept.rows).toBe(2);
    expect(swept.tombstones).toBeGreaterThanOrEqual(1);
    expect(await rowsOf('we_raced')).toEqual({ deliveries: 0, attempts: 0 });
    const left = await schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_endpoint_tombstones',
    );
    expect(left.rows[0]).toEqual({ n: 0 });
  });
});
