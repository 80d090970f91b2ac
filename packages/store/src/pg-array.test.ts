import { Pool } from 'pg';
import { testServers } from '@reten/testing';
import { pgArray } from './pg-array';

/** Array literals read back by the real PostgreSQL, element for element. */
describe('pgArray', () => {
  let pool: Pool;

  beforeAll(async () => {
    pool = new Pool({ connectionString: (await testServers()).databaseUrl, max: 1 });
  });

  afterAll(async () => {
    await pool.end();
  });

  const roundTrip = async (type: string, values: unknown[]) => {
    const res = await pool.query<{ v: unknown[] }>(`SELECT $1::${type}[] AS v`, [
      pgArray(values as never),
    ]);
    return res.rows[0]!.v;
  };

  it('reads back text as sent: quotes, backslashes, delimiters, spaces, NULL as text, unicode', async () => {
    const values = [
      'dlv_01JD6Z8Q3Y5K2V9W7X4T1R0S8M',
      'wh_BENCH0000000000000000000001',
      '',
      ' ',
      'a,b',
      '{x}',
      'say "hi"',
      'back\\slash',
      '\\"',
      'NULL',
      'null',
      'Null',
      'tab\there',
      'line\nbreak',
      'héllo ✓',
      '2026-12-02T06:10:00.123Z',
      'log:ClientLog',
      'a/b@c+d-e.f',
      null,
      'HTTP 500',
    ];
    expect(await roundTrip('text', values)).toEqual(values);
  });

  it('reads back JSON documents as jsonb', async () => {
    const docs = [{ a: 'x "y" \\ z', n: [1, 2], o: { k: null } }, 'plain', 42, null];
    const res = await pool.query<{ v: unknown[] }>('SELECT $1::jsonb[] AS v', [
      pgArray(docs.map((d) => (d === null ? null : JSON.stringify(d)))),
    ]);
    expect(res.rows[0]!.v).toEqual(docs);
  });

  it('reads back numbers, booleans, timestamps and nulls in typed arrays', async () => {
    expect(await roundTrip('int', [0, -7, 2147483647, null, 204])).toEqual([
      0,
      -7,
      2147483647,
      null,
      204,
    ]);
    expect(await roundTrip('boolean', [true, false, null])).toEqual([true, false, null]);
    const at = new Date('2026-12-02T06:10:00.123Z');
    const back = (await roundTrip('timestamptz', [at.toISOString(), null])) as (Date | null)[];
    expect(back[0]!.getTime()).toBe(at.getTime());
    expect(back[1]).toBeNull();
    expect(await roundTrip('bigint', ['9007199254740993', '1'])).toEqual(['9007199254740993', '1']);
  });

  it('writes bare elements joined at once and quotes only what needs it', () => {
    expect(pgArray(['a1', 'b_2', 3, true])).toBe('{a1,b_2,3,true}');
    expect(pgArray([])).toBe('{}');
    expect(pgArray(['a b', null, 'null', '', 'x"y\\z'])).toBe(
      '{"a b",NULL,"null","","x\\"y\\\\z"}',
    );
    expect(pgArray([undefined])).toBe('{NULL}');
  });

  it('reads back an empty array', async () => {
    expect(await roundTrip('text', [])).toEqual([]);
  });
});
