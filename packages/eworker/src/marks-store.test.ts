import { newEventId } from '@reten/store';
import { createTestSchema } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { claimForProcessing, markFailed } from './marks-store';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('marks store');
});

afterAll(async () => {
  await schema?.drop();
});

function identity(eventId: string, revision = 1) {
  return { eventId, revision, tenantId: 'acme', type: 'test.marks' };
}

async function claim(eworker: string, events: ReturnType<typeof identity>[]): Promise<string[]> {
  const db = await schema.pool.connect();
  try {
    await db.query('BEGIN');
    const claimed = await claimForProcessing(db, eworker, events, 1);
    await db.query('COMMIT');
    return [...claimed].sort();
  } finally {
    db.release();
  }
}

describe('claimForProcessing', () => {
  it('claims each new revision once, even when it is listed twice', async () => {
    const a = newEventId();
    const b = newEventId();
    expect(await claim('w', [identity(a), identity(b), identity(a)])).toEqual(
      [`${a}:1`, `${b}:1`].sort(),
    );
  });

  it('skips processed and parked revisions, claims a new revision of a processed event', async () => {
    const a = newEventId();
    const parked = newEventId();
    await claim('w2', [identity(a)]);
    await markFailed(schema.pool, 'w2', identity(parked), 5, 'Error: boom');
    expect(await claim('w2', [identity(a), identity(parked), identity(a, 2)])).toEqual([`${a}:2`]);
  });

  it('claims a parked revision again once a replay moved it to replaying', async () => {
    const parked = newEventId();
    await markFailed(schema.pool, 'w3', identity(parked), 5, 'Error: boom');
    await schema.pool.query(
      "UPDATE eworker_marks SET status = 'replaying' WHERE eworker = 'w3' AND event_id = $1",
      [parked],
    );
    expect(await claim('w3', [identity(parked)])).toEqual([`${parked}:1`]);
    const row = await schema.pool.query(
      "SELECT status, attempts, parked_count FROM eworker_marks WHERE eworker = 'w3'",
    );
    expect(row.rows).toEqual([{ status: 'processed', attempts: 6, parked_count: 1 }]);
  });

  it('never turns a processed mark into a failed one', async () => {
    const a = newEventId();
    await claim('w4', [identity(a)]);
    await markFailed(schema.pool, 'w4', identity(a), 3, 'late failure');
    const row = await schema.pool.query("SELECT status FROM eworker_marks WHERE eworker = 'w4'");
    expect(row.rows).toEqual([{ status: 'processed' }]);
  });
});

describe('the counts kept with the marks', () => {
  async function counts(eworker: string) {
    const res = await schema.pool.query<{
      tenant_id: string;
      event_type: string;
      processed: number;
      failed: number;
    }>(
      `SELECT tenant_id, event_type, processed::int, failed::int FROM eworker_mark_counts
        WHERE eworker = $1 ORDER BY tenant_id, event_type`,
      [eworker],
    );
    return res.rows;
  }

  /** What a scan of the marks says, in the counters' terms. */
  async function recount(eworker: string) {
    const res = await schema.pool.query<{
      tenant_id: string;
      event_type: string;
      processed: number;
      failed: number;
    }>(
      `SELECT tenant_id, event_type,
              (count(*) FILTER (WHERE status = 'processed'))::int AS processed,
              (count(*) FILTER (WHERE parked_count > 0))::int AS failed
         FROM eworker_marks WHERE eworker = $1
        GROUP BY tenant_id, event_type ORDER BY tenant_id, event_type`,
      [eworker],
    );
    return res.rows;
  }

  it('count processed and parked revisions once each, through redeliveries, replays and rollbacks', async () => {
    const w = 'counted';
    const [a, b, c, parked] = [newEventId(), newEventId(), newEventId(), newEventId()];
    const other = { eventId: newEventId(), revision: 1, tenantId: 'globex', type: 'test.other' };
    await claim(w, [identity(a), identity(b), other]);
    await claim(w, [identity(a), identity(b), identity(c)]); // a and b are redeliveries
    // a batch that rolls back counts nothing
    const db = await schema.pool.connect();
    try {
      await db.query('BEGIN');
      await claimForProcessing(db, w, [identity(newEventId())], 1);
      await db.query('ROLLBACK');
    } finally {
      db.release();
    }
    await markFailed(schema.pool, w, identity(parked), 3, 'Error: boom');
    await markFailed(schema.pool, w, identity(parked), 3, 'Error: boom'); // parked twice
    expect(await counts(w)).toEqual([
      { tenant_id: 'acme', event_type: 'test.marks', processed: 3, failed: 1 },
      { tenant_id: 'globex', event_type: 'test.other', processed: 1, failed: 0 },
    ]);

    // replayed: fails again (not a new failure), then is processed
    await schema.pool.query(
      "UPDATE eworker_marks SET status = 'replaying' WHERE eworker = $1 AND event_id = $2",
      [w, parked],
    );
    await markFailed(schema.pool, w, identity(parked), 1, 'Error: again');
    await schema.pool.query(
      "UPDATE eworker_marks SET status = 'replaying' WHERE eworker = $1 AND event_id = $2",
      [w, parked],
    );
    expect(await claim(w, [identity(parked)])).toEqual([`${parked}:1`]);
    expect(await counts(w)).toEqual([
      { tenant_id: 'acme', event_type: 'test.marks', processed: 4, failed: 1 },
      { tenant_id: 'globex', event_type: 'test.other', processed: 1, failed: 0 },
    ]);
    expect(await counts(w)).toEqual(await recount(w));
  });
});
