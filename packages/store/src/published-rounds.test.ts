import { readdirSync } from 'node:fs';
import { createTestSchema, eventually, silentLogger } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { Pool } from 'pg';
import { EventStore } from './event-store';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrate';
import { newEventId } from './ids';
import { createPool } from './pool';
import { StreamBackfillStore } from './stream-backfill';

const MIGRATION = '1733700000000_published_rounds';
/** The migrations before it. */
const BEFORE = readdirSync(DEFAULT_MIGRATIONS_DIR).filter(
  (f) => f.endsWith('.sql') && f < MIGRATION,
).length;

function row(tenantId: string, data: unknown) {
  return {
    tenantId,
    eventId: newEventId(),
    revision: 1,
    eventType: 'rounds.x',
    occurredAt: new Date('2026-01-02T03:04:05Z'),
    dataJson: JSON.stringify(data),
  };
}

describe('the published mark (published_rounds)', () => {
  let schema: TestSchema;
  let events: EventStore;
  /** One connection whose search_path is `name`: what a session after the first sees. */
  const onePool = (name: string) =>
    createPool({
      databaseUrl: schema.databaseUrl,
      schema: name,
      max: 1,
      statementTimeoutMs: 10_000,
      applicationName: 'published-rounds-test',
    });

  beforeAll(async () => {
    schema = await createTestSchema('published rounds');
    events = new EventStore(schema.pool, schema.schema);
  });

  afterAll(async () => {
    await schema.drop();
  });

  it('publishes a batch by one mark, without rewriting its events, and dates each by its round', async () => {
    const first = [row('r1', { n: 1 }), row('r1', { n: 2 })];
    await events.insertBatch(first, []);
    // a row version's ctid and xmin change with any UPDATE of it
    const versions = async () =>
      (
        await schema.pool.query<{ v: string }>(
          `SELECT ctid::text || '/' || xmin::text AS v FROM events
            WHERE event_id = ANY($1::text[]) ORDER BY seq`,
          [first.map((r) => r.eventId)],
        )
      ).rows.map((r) => r.v);
    const before = await versions();
    const round1 = await events.unpublished(100);
    expect(round1.map((r) => r.eventId)).toEqual(first.map((r) => r.eventId));
    expect(await events.backlog()).toBe(2);
    expect((await events.getCurrent('r1', first[0]!.eventId))?.publishedAt).toBeNull();
    await events.markPublishedThrough(round1[1]!.streamPosition!);

    expect(await events.unpublished(100)).toEqual([]);
    expect(await events.outboxLag()).toEqual({ backlog: 0, oldestAgeSeconds: 0 });
    const published = await events.getCurrent('r1', first[1]!.eventId);
    expect(published?.publishedAt).toBeInstanceOf(Date);
    // the rows are the versions the insert wrote
    expect(await versions()).toEqual(before);

    // a later round gets its own time; the earlier events keep theirs
    const second = row('r1', { n: 3 });
    await events.insertBatch([second], []);
    const round2 = await events.unpublished(100);
    expect(round2.map((r) => r.eventId)).toEqual([second.eventId]);
    // the next mark's now() must fall in a later millisecond than the first's (JS dates)
    await eventually(async () => {
      const { rows } = await schema.pool.query<{ later: boolean }>(
        "SELECT clock_timestamp() >= $1::timestamptz + interval '1 millisecond' AS later",
        [published!.publishedAt],
      );
      expect(rows[0]?.later).toBe(true);
    });
    await events.markPublishedThrough(round2[0]!.streamPosition!);
    const later = await events.getCurrent('r1', second.eventId);
    expect(later?.publishedAt?.getTime()).toBeGreaterThan(published!.publishedAt!.getTime());
    expect((await events.getCurrent('r1', first[1]!.eventId))?.publishedAt).toEqual(
      published?.publishedAt,
    );

    // a late mark below the newest one (a relay that lost the lead) changes nothing
    await events.markPublishedThrough(round1[0]!.streamPosition!);
    expect(await events.unpublished(100)).toEqual([]);
    expect((await events.getCurrent('r1', second.eventId))?.publishedAt).toEqual(
      later?.publishedAt,
    );
  });

  it("marks with an asynchronous commit that does not outlive the mark's own transaction", async () => {
    // one connection, so the statement after the mark runs on the session that marked
    const pool = onePool(schema.schema);
    try {
      const store = new EventStore(pool, schema.schema);
      await store.markPublishedThrough('1000000');
      const { rows } = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      expect(rows[0]?.synchronous_commit).toBe('on');
      const marks = await schema.pool.query(
        'SELECT 1 FROM published_rounds WHERE last_position = 1000000',
      );
      expect(marks.rowCount).toBe(1);
    } finally {
      await schema.pool.query('DELETE FROM published_rounds WHERE last_position = 1000000');
      await pool.end();
    }
  });

  it('answers the same from a session whose search_path is another schema or none', async () => {
    const r = row('r3', { v: 1 });
    await events.insertBatch([r], []);
    const positioned = await events.unpublished(100);
    await events.markPublishedThrough(positioned[positioned.length - 1]!.streamPosition!);
    await events.insertBatch([row('r3', { v: 2 })], []);
    const q = `"${schema.schema}"`;
    const sql = `SELECT ${q}.reten_published_through()::text AS through,
                        (SELECT count(*)::int FROM ${q}.outbox) AS backlog,
                        (SELECT ${q}.reten_published_at(stream_position, published_at) IS NOT NULL
                           FROM ${q}.events WHERE event_id = $1) AS published`;
    const own = (await schema.pool.query(sql, [r.eventId])).rows[0];
    expect(own).toEqual({ through: expect.any(String), backlog: 1, published: true });
    // another Reten schema, with its own marks, first in the path; then the default path
    const other = await createTestSchema('published rounds other');
    try {
      await other.pool.query('INSERT INTO published_rounds (last_position) VALUES (1)');
      const elsewhere = onePool(other.schema);
      const plain = new Pool({ connectionString: schema.databaseUrl, max: 1 });
      try {
        expect((await elsewhere.query(sql, [r.eventId])).rows[0]).toEqual(own);
        expect((await plain.query(sql, [r.eventId])).rows[0]).toEqual(own);
      } finally {
        await elsewhere.end();
        await plain.end();
      }
    } finally {
      await other.drop();
    }
  });

  it('keeps a round to its row and byte limits, in one statement unless a row waits to be numbered', async () => {
    // everything before this test is published
    await events.insertBatch([row('r4', { before: true })], []);
    const earlier = await events.unpublished(1000);
    await events.markPublishedThrough(earlier[earlier.length - 1]!.streamPosition!);
    const query = jest.spyOn(schema.pool, 'query');
    const four = [1, 2, 3, 4].map((n) => row('r4', { n, pad: 'x'.repeat(100 * n) }));
    await events.insertBatch(four, []);
    const { rows: sized } = await schema.pool.query<{ size: number }>(
      `SELECT pg_column_size(data) AS size FROM events WHERE event_id = ANY($1::text[]) ORDER BY seq`,
      [four.map((r) => r.eventId)],
    );
    const [s1, s2] = sized.map((r) => r.size);
    const ids = (rows: { eventId: string }[]) => rows.map((r) => r.eventId);
    const counted = async (run: () => Promise<{ eventId: string }[]>) => {
      query.mockClear();
      const got = ids(await run());
      return { got, statements: query.mock.calls.length };
    };

    expect(await counted(() => events.unpublished(3))).toEqual({
      got: ids(four.slice(0, 3)),
      statements: 1,
    });
    // bytes as stored: the rows that fit, and the first one always
    expect(await counted(() => events.unpublished(10, s1! + s2!))).toEqual({
      got: ids(four.slice(0, 2)),
      statements: 1,
    });
    expect(await counted(() => events.unpublished(10, 1))).toEqual({
      got: ids(four.slice(0, 1)),
      statements: 1,
    });
    const full = await events.unpublished(10);
    expect(ids(full)).toEqual(ids(four));
    expect(full.map((r) => JSON.parse(r.dataJson) as unknown)).toEqual(
      four.map((r) => JSON.parse(r.dataJson) as unknown),
    );

    // a revision waits without a position: the round numbers it after the positioned rows,
    // and only when it fits in the round
    await events.insertRevision('r4', four[0]!.eventId, 1, { dataJson: '{"n":5}' });
    const counter = async () =>
      (
        await schema.pool.query<{ p: string }>(
          'SELECT last_position::text AS p FROM stream_position_counter',
        )
      ).rows[0]!.p;
    const before = await counter();
    expect(await counted(() => events.unpublished(2))).toEqual({
      got: ids(four.slice(0, 2)),
      statements: 2,
    });
    expect(await counter()).toBe(before);
    const withRevision = await events.unpublished(10);
    expect(withRevision.map((r) => [r.eventId, r.revision])).toEqual([
      ...four.map((r) => [r.eventId, 1]),
      [four[0]!.eventId, 2],
    ]);
    expect(BigInt(withRevision[4]!.streamPosition!)).toBe(BigInt(before) + 1n);
    await events.markPublishedThrough(withRevision[4]!.streamPosition!);
    expect(await counted(() => events.unpublished(10))).toEqual({ got: [], statements: 1 });
    query.mockRestore();
  });

  it('a revision is unpublished until the relay positions and publishes it', async () => {
    const r = row('r2', { v: 1 });
    await events.insertBatch([r], []);
    const one = await events.unpublished(100);
    await events.markPublishedThrough(one[one.length - 1]!.streamPosition!);
    await events.insertRevision('r2', r.eventId, 1, { dataJson: '{"v":2}' });

    expect((await events.getCurrent('r2', r.eventId))?.publishedAt).toBeNull();
    expect(await events.backlog()).toBe(1);
    const next = await events.unpublished(100);
    expect(next.map((x) => [x.eventId, x.revision])).toEqual([[r.eventId, 2]]);
    await events.markPublishedThrough(next[0]!.streamPosition!);
    expect((await events.getCurrent('r2', r.eventId))?.publishedAt).toBeInstanceOf(Date);
    expect(await events.backlog()).toBe(0);
  });
});

describe('the published_rounds migration', () => {
  it('keeps what was published, leaves what was not to the relay, and republishes an unconfirmed batch', async () => {
    const old = await createTestSchema('published rounds migration', { migrate: false });
    const migrate = (count?: number) =>
      runMigrations({
        databaseUrl: old.databaseUrl,
        schema: old.schema,
        log: silentLogger(),
        ...(count === undefined ? {} : { count }),
      });
    try {
      await migrate(BEFORE);
      // as the relay before the migration left them: 1 and 2 published (marked on the row), 3
      // positioned but its confirm never came, 4 a revision it had not positioned yet
      // (ids past every ULID: the partitions of time come only once all migrations ran)
      const rows = [1, 2, 3, 4].map((n) => ({ ...row('m', { n }), eventId: `evt_old-${n}` }));
      const positions = ['1', '2', '3', null];
      const markedAt = new Date('2026-11-30T10:00:00Z');
      for (const [i, r] of rows.entries()) {
        await old.pool.query(
          `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data,
                               stream_position, published_at)
           VALUES ($1, $2, 1, $3, $4, $5::jsonb, $6, $7)`,
          [
            r.tenantId,
            r.eventId,
            r.eventType,
            r.occurredAt,
            r.dataJson,
            positions[i],
            i < 2 ? markedAt : null,
          ],
        );
      }
      await old.pool.query('UPDATE stream_position_counter SET last_position = 3');

      expect(await migrate()).toContain(MIGRATION);
      const store = new EventStore(old.pool, old.schema);
      expect((await store.getCurrent('m', rows[0]!.eventId))?.publishedAt).toEqual(markedAt);
      expect((await store.getCurrent('m', rows[2]!.eventId))?.publishedAt).toBeNull();
      expect(await store.backlog()).toBe(2);
      const next = await store.unpublished(10);
      expect(next.map((r) => [r.eventId, r.streamPosition])).toEqual([
        [rows[2]!.eventId, '3'],
        [rows[3]!.eventId, '4'],
      ]);
      // the stream's starting cursor is the newest published position
      expect(await new StreamBackfillStore(old.pool).latestPosition('m')).toBe('2');
      await store.markPublishedThrough('4');
      expect(await store.backlog()).toBe(0);
      expect(await new StreamBackfillStore(old.pool).latestPosition('m')).toBe('4');
      expect((await store.getCurrent('m', rows[3]!.eventId))?.publishedAt).toBeInstanceOf(Date);
    } finally {
      await old.drop();
    }
  });
});
