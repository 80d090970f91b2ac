/**
 * Baseline (b): `connections` callers each running single-row INSERT transactions (autocommit)
 * into the same `events` table as the gateway's, straight into PostgreSQL, for a bounded time.
 * Prints { rows, rowsPerSecond, p50Ms, p99Ms } as JSON.
 */
const { Pool } = require('pg');
const path = require('node:path');
// real event ids (ULIDs of now): the events table is partitioned by the time in the id
const { newEventId } = require(path.join(__dirname, '../../packages/store/dist/ids.js'));

async function main() {
  const { databaseUrl, schema, connections, durationSeconds, body } = JSON.parse(process.argv[2]);
  const pool = new Pool({
    connectionString: databaseUrl,
    max: connections,
    options: `-c search_path="${schema}"`,
  });
  const latencies = [];
  let rows = 0;
  const deadline = Date.now() + durationSeconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const start = process.hrtime.bigint();
      await pool.query(
        `INSERT INTO events (tenant_id, event_id, revision, event_type, occurred_at, data)
         VALUES ('bench', $1, 1, 'log:ClientLog', now(), $2::jsonb)`,
        [newEventId(), body],
      );
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      rows += 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.end();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  process.stdout.write(
    `${JSON.stringify({ rows, rowsPerSecond: rows / durationSeconds, p50Ms: at(0.5), p99Ms: at(0.99) })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
