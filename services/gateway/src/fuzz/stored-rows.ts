import type { TestSchema } from '@reten/testing';

const countQueries = new WeakMap<TestSchema, Promise<string>>();

/**
 * Tables a background worker adds to whatever the request was: the relay marks each round it
 * published (events accepted earlier) in published_rounds.
 */
const BACKGROUND_TABLES = new Set(['published_rounds']);

/** One statement counting the rows of every table of the schema (the catalog is read once). */
async function countQueryOf(schema: TestSchema): Promise<string> {
  const tables = await schema.pool.query<{ tablename: string }>(
    'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
    [schema.schema],
  );
  const columns = tables.rows
    .filter((t) => !BACKGROUND_TABLES.has(t.tablename))
    .map((t) => `(SELECT count(*) FROM "${t.tablename}")::int AS "${t.tablename}"`);
  return columns.length > 0 ? `SELECT ${columns.join(', ')}` : 'SELECT';
}

/** Row count of every table of a test schema, by table name. */
export async function rowCounts(schema: TestSchema): Promise<Map<string, number>> {
  let query = countQueries.get(schema);
  if (!query) {
    query = countQueryOf(schema);
    countQueries.set(schema, query);
  }
  const res = await schema.pool.query<Record<string, number>>(await query);
  return new Map(Object.entries(res.rows[0] ?? {}));
}

/**
 * The tables that have more rows in `after` than in `before`, as `table +n`. Only growth
 * counts: sweepers delete rows in the background; the relay's marks are not counted.
 */
export function grownTables(before: Map<string, number>, after: Map<string, number>): string[] {
  const grown: string[] = [];
  for (const [table, n] of after) {
    const was = before.get(table) ?? 0;
    if (n > was) grown.push(`${table} +${n - was}`);
  }
  return grown;
}
