import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestSchema, eventually, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import type { PoolClient } from 'pg';
import { EventStore } from './event-store';
import type { OutboxRow } from './event-rows';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrate';
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

function row(tenantId: string, eventType: string, data: unknown, eventId = newEventId()) {
  return {
    tenantId,
    eventId,
    revision: 1,
    eventType,
    occurredAt: new Date('2026-01-02T03:04:05Z'),
    dataJson: JSON.stringify(data),
  };
}

async function insert(tenantId: string, eventType: string, data: unknown): Promise<string> {
  const r = row(tenantId, eventType, data);
  await events.insertBatch([r], []);
  return r.eventId;
}

/** Resolves once exactly one other session waits for a lock `holder`'s session holds. */
async function untilBlockedBy(holder: PoolClient): Promise<void> {
  const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]?.pid;
  await eventually(async () => {
    const blocked = await schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))',
      [pid],
    );
    expect(blocked.rows[0]?.n).toBe(1);
  });
}

/** A row as a revision or a system event is stored: without a stream position. */
async function insertUnpositioned(tenantId: string, eventType: string): Promise<string> {
  const r = row(tenantId, eventType, {});
  await schema.pool.query(
    `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
     VALUES ($1, $2, 1, $3, $4, $5::jsonb)`,
    [r.tenantId, r.eventId, r.eventType, r.occurredAt, r.dataJson],
  );
  return r.eventId;
}

/** What the relay does once the broker confirmed `rows`: marks them published up to the last. */
async function markPublished(rows: OutboxRow[]): Promise<void> {
  const last = rows[rows.length - 1]?.streamPosition;
  if (last !== undefined) await events.markPublishedThrough(last);
}

/** What the relay does: take the unpublished rows (positioning them), then mark them published. */
async function relayRound(limit = 1000): Promise<Map<string, string>> {
  const rows = await events.unpublished(limit);
  await markPublished(rows);
  return new Map(rows.map((r) => [r.eventId, r.streamPosition ?? '']));
}

async function positionOf(tenantId: string, eventId: string): Promise<string> {
  const p = (await backfill.position(tenantId, eventId, undefined))?.position;
  if (!p) throw new Error(`${eventId} has no position`);
  return p;
}

describe('StreamBackfillStore', () => {
  it('pages a tenant’s events after a position in position order, with matching types only, as envelope JSON', async () => {
    const a = await insert('t1', 'order.created', { n: 1 });
    const b = await insert('t1', 'order.created', { n: 2 });
    await insert('t2', 'order.created', { n: 3 });
    await insert('t1', 'user.created', { n: 4 });
    const c = await insert('t1', 'log:ClientLog', { n: 5 });
    await relayRound();
    const page1 = await backfill.after(
      't1',
      await positionOf('t1', a),
      ['order.*', 'log:ClientLog'],
      1,
    );
    expect(page1.map((e) => e.eventId)).toEqual([b]);
    const page2 = await backfill.after(
      't1',
      await positionOf('t1', b),
      ['order.*', 'log:ClientLog'],
      10,
    );
    expect(page2.map((e) => e.eventId)).toEqual([c]);
    expect(page2[0]?.position).toBe(await positionOf('t1', c));
    expect(JSON.parse(page2[0]?.json ?? '')).toEqual({
      event_id: c,
      event_type: 'log:ClientLog',
      timestamp: '2026-01-02T03:04:05.000Z',
      revision: 1,
      data: { n: 5 },
    });
    expect((await backfill.after('t1', '0', ['*'], 100)).length).toBeGreaterThanOrEqual(4);
  });

  it('treats _ and % in a filter literally, as the type pattern says', async () => {
    await relayRound();
    const start = await backfill.latestPosition('t3');
    const exact = await insert('t3', 'a_b', {});
    await insert('t3', 'axb', {});
    await relayRound();
    expect((await backfill.after('t3', start, ['a_b'], 10)).map((e) => e.eventId)).toEqual([exact]);
  });

  it('finds the position of an event of the tenant (its first revision by default, or the one named); a revision has none before the relay took it', async () => {
    const e = await insert('t4', 'doc.saved', { v: 1 });
    const first = await positionOf('t4', e); // the group commit positioned it
    expect((await relayRound()).get(e)).toBe(first); // and the relay kept that position
    await events.insertRevision('t4', e, 1, { dataJson: '{"v":2}' });
    expect(await backfill.position('t4', e, 2)).toMatchObject({ position: undefined });
    const second = (await relayRound()).get(e);
    expect(first).toMatch(/^[0-9]+$/);
    expect(Number(second)).toBeGreaterThan(Number(first));
    expect((await backfill.position('t4', e, undefined))?.position).toBe(first);
    expect((await backfill.position('t4', e, 2))?.position).toBe(second);
    expect(await backfill.position('t4', e, 3)).toBeUndefined();
    expect(await backfill.position('other', e, undefined)).toBeUndefined();
  });

  it('answers the tenant’s newest published position, "0" for a tenant without published events', async () => {
    const e = await insert('t5', 'x', {});
    // positioned by its commit, not published yet: a live cursor must not start past it
    expect(await backfill.latestPosition('t5')).toBe('0');
    const positions = await relayRound();
    expect(await backfill.latestPosition('t5')).toBe(positions.get(e));
    await insert('t5', 'x', {});
    expect(await backfill.latestPosition('t5')).toBe(positions.get(e));
    expect(await backfill.latestPosition('nobody')).toBe('0');
  });
});

describe('stream positions assigned by the relay’s read', () => {
  it('follows publish order: a smaller seq committed after a larger one was published comes after it', async () => {
    await relayRound();
    const early = row('t6', 'race.x', { n: 'early seq, late commit' });
    const late = row('t6', 'race.x', { n: 'late seq, early commit' });
    const slow = await schema.pool.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
         VALUES ($1, $2, 1, $3, $4, $5::jsonb)`,
        [early.tenantId, early.eventId, early.eventType, early.occurredAt, early.dataJson],
      );
      const before = await backfill.latestPosition('t6');
      await events.insertBatch([late], []); // a larger seq, committed first
      const firstRound = await relayRound();
      expect([...firstRound.keys()]).toEqual([late.eventId]);
      await slow.query('COMMIT');
      const secondRound = await relayRound();
      expect([...secondRound.keys()]).toEqual([early.eventId]);
      // a client that saw `late` and resumes after it gets `early`: nothing skipped
      const resumed = await backfill.after('t6', firstRound.get(late.eventId) ?? '', ['*'], 10);
      expect(resumed.map((e) => e.eventId)).toEqual([early.eventId]);
      const all = await backfill.after('t6', before, ['*'], 10);
      expect(all.map((e) => e.eventId)).toEqual([late.eventId, early.eventId]);
    } finally {
      slow.release();
    }
  });

  it('keeps the positions and the order of a batch whose publish was not confirmed, and puts it first', async () => {
    await relayRound();
    const a = await insert('t7', 'retry.x', { n: 1 });
    const b = await insert('t7', 'retry.x', { n: 2 });
    const unconfirmed = await events.unpublished(10); // positioned, never marked published
    const c = await insert('t7', 'retry.x', { n: 3 });
    const again = await events.unpublished(10);
    expect(again.map((r) => r.eventId)).toEqual([a, b, c]);
    expect(again.slice(0, 2).map((r) => r.streamPosition)).toEqual(
      unconfirmed.map((r) => r.streamPosition),
    );
    expect(Number(again[2]?.streamPosition)).toBeGreaterThan(Number(again[1]?.streamPosition));
    await markPublished(again);
  });

  it('positions only the rows of the batch it returns', async () => {
    await relayRound();
    const a = await insertUnpositioned('t8', 'limit.x');
    const b = await insertUnpositioned('t8', 'limit.x');
    const one = await events.unpublished(1);
    expect(one.map((r) => r.eventId)).toEqual([a]);
    expect(await backfill.position('t8', b, undefined)).toMatchObject({ position: undefined });
    await relayRound();
  });
});

describe('stream positions taken by the group commit', () => {
  it('numbers a batch in input order, after every position committed before it, and the relay keeps them', async () => {
    await relayRound();
    const first = [row('t9', 'gc.x', { n: 1 }), row('t9', 'gc.x', { n: 2 })];
    await events.insertBatch(first, []);
    const [p1, p2] = await Promise.all(first.map((r) => positionOf('t9', r.eventId)));
    expect(Number(p2)).toBe(Number(p1) + 1);
    // a transaction holding the counter (another replica's group commit in flight) goes first
    const other = await schema.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query('UPDATE stream_position_counter SET last_position = last_position + 5');
      const second = row('t9', 'gc.x', { n: 3 });
      let stored = false;
      const waiting = events.insertBatch([second], []).then(() => {
        stored = true;
      });
      // it waits for the counter's row lock: PostgreSQL shows it blocked by the other session
      await untilBlockedBy(other);
      expect(stored).toBe(false);
      await other.query('COMMIT');
      await waiting;
      expect(Number(await positionOf('t9', second.eventId))).toBe(Number(p2) + 6);
    } finally {
      other.release();
    }
    const published = await relayRound();
    expect(published.get(first[0]?.eventId ?? '')).toBe(p1);
    expect(published.get(first[1]?.eventId ?? '')).toBe(p2);
  });
});

describe('the relay numbering rows while a group commit takes positions', () => {
  it('leaves its rows for the next round rather than number them past positions it cannot see', async () => {
    await relayRound();
    const revisionLike = await insertUnpositioned('t10', 'epq.x');
    // a group commit in flight: it holds the counter and has a positioned row, not committed yet
    const other = await schema.pool.connect();
    const committing = row('t10', 'epq.x', { n: 'group commit' });
    try {
      await other.query('BEGIN');
      const { rows } = await other.query<{ position: string }>(
        `UPDATE stream_position_counter SET last_position = last_position + 1
         RETURNING last_position::text AS position`,
      );
      await other.query(
        `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data, stream_position)
         VALUES ($1, $2, 1, $3, $4, $5::jsonb, $6)`,
        [
          committing.tenantId,
          committing.eventId,
          committing.eventType,
          committing.occurredAt,
          committing.dataJson,
          rows[0]?.position,
        ],
      );
      const round = events.unpublished(10); // its snapshot cannot see the row above
      await untilBlockedBy(other);
      await other.query('COMMIT');
      expect(await round).toEqual([]);
    } finally {
      other.release();
    }
    const next = await events.unpublished(10);
    expect(next.map((r) => r.eventId)).toEqual([committing.eventId, revisionLike]);
    expect(Number(next[1]?.streamPosition)).toBeGreaterThan(Number(next[0]?.streamPosition));
    await markPublished(next);
  });
});

describe('the stream position migration', () => {
  it('positions the events published before it in seq order, leaves unpublished ones to the relay, and the relay goes on after them', async () => {
    const old = await createTestSchema('stream position migration', { migrate: false });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reten-migrations-'));
    try {
      const files = readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'));
      for (const f of files.filter((f) => f < '1733200000000')) {
        copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
      }
      const migrate = (d: string) =>
        runMigrations({
          databaseUrl: old.databaseUrl,
          schema: old.schema,
          log: silentLogger(),
          dir: d,
        });
      await migrate(dir);
      const store = new EventStore(old.pool, old.schema);
      const published = [row('m', 'old.x', { n: 1 }), row('m', 'old.x', { n: 2 })];
      const waiting = row('m', 'old.x', { n: 3 });
      // rows as the schema of the time stored them: today's insert names columns added since
      for (const r of [...published, waiting]) {
        await old.pool.query(
          `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
          [r.tenantId, r.eventId, r.revision, r.eventType, r.occurredAt, r.dataJson],
        );
      }
      await old.pool.query('UPDATE events SET published_at = now() WHERE event_id = ANY($1)', [
        published.map((r) => r.eventId),
      ]);

      await migrate(DEFAULT_MIGRATIONS_DIR);
      const reader = new StreamBackfillStore(old.pool);
      expect((await reader.after('m', '0', ['*'], 10)).map((e) => [e.eventId, e.position])).toEqual(
        [
          [published[0]?.eventId, '1'],
          [published[1]?.eventId, '2'],
        ],
      );
      const next = await store.unpublished(10);
      expect(next.map((r) => [r.eventId, r.streamPosition])).toEqual([[waiting.eventId, '3']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await old.drop();
    }
  });
});
