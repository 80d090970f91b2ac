import type { TestSchema } from '@reten/testing';

/** Row count of every table of a test schema, by table name. */
export async function rowCounts(schema: TestSchema): Promise<Map<string, number>> {
  const tables = await schema.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [schema.schema],
  );
  if (tables.rows.length === 0) return new Map();
  const sql = tables.rows
    .map((t, i) => `SELECT $${i + 1}::text AS t, count(*)::int AS n FROM "${t.table_name}"`)
    .join(' UNION ALL ');
  const res = await schema.pool.query<{ t: string; n: number }>(
    sql,
    tables.rows.map((t) => t.table_name),
  );
  return new Map(res.rows.map((r) => [r.t, r.n]));
}

/**
 * The tables that have more rows in `after` than in `before`, as `table +n`. Only growth
 * counts: the relay and sweepers delete rows in the background, never add them.
 */
export function grownTables(before: Map<string, number>, after: Map<string, number>): string[] {
  const grown: string[] = [];
  for (const [table, n] of after) {
    const was = before.get(table) ?? 0;
    if (n > was) grown.push(`${table} +${n - was}`);
  }
  return grown;
}
