'use strict';
/**
 * `node bench/ingest/batch-cost.js [root …]`: CPU µs per event of the ingest group commit's
 * statement alone (`EventStore.insertBatch`), in this process (the client: parameters, the
 * protocol) and in its PostgreSQL backend (/proc), without the HTTP server and the load
 * generator around it. Each root is a built checkout (default: this one); with several, their
 * rounds alternate in one run, each on its own migrated schema of `reten_bench`, so two trees
 * compare without the bench's noise, e.g. `node bench/ingest/batch-cost.js /tmp/before .`.
 * Batches of BENCH_BATCH (25) ~340-byte `log:ClientLog` events, BENCH_BATCHES (2,000) per round,
 * BENCH_ROUNDS (5) rounds per root after one of warm-up; one connection.
 */
const path = require('node:path');
const { Pool } = require('pg');
const h = require('../lib/harness');
const { spread } = h;
const { prepareSchema, cpuMicros } = require('../lib/stack');
const { BODY } = require('./body');

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';
const BATCH = Number(process.env.BENCH_BATCH ?? 25);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROOTS = (process.argv.length > 2 ? process.argv.slice(2) : [h.ROOT]).map((r) =>
  path.resolve(r),
);
const line = (s) => process.stdout.write(`${s}\n`);

/** One subject: a root's EventStore on its own schema, through one connection. */
async function subject(root, i) {
  const schema = `bench_batch_${i}_${Date.now().toString(36)}`;
  await prepareSchema({ databaseUrl: DATABASE_URL, schema, jwtSecret: 'bench-batch-cost' });
  const { EventStore } = require(path.join(root, 'packages/store/dist/event-store.js'));
  const { newEventId } = require(path.join(root, 'packages/store/dist/ids.js'));
  const pool = new Pool({
    connectionString: DATABASE_URL,
    max: 1,
    options: `-c search_path="${schema}"`,
  });
  const { rows } = await pool.query('SELECT pg_backend_pid() AS pid');
  const store = new EventStore(pool, schema);
  const round = async (batches) => {
    const client0 = process.cpuUsage();
    const backend0 = cpuMicros(rows[0].pid);
    const wall0 = process.hrtime.bigint();
    for (let b = 0; b < batches; b++) {
      const now = new Date();
      const events = [];
      for (let k = 0; k < BATCH; k++) {
        events.push({
          tenantId: 'bench',
          eventId: newEventId(now.getTime()),
          revision: 1,
          eventType: 'log:ClientLog',
          occurredAt: now,
          dataJson: BODY,
        });
      }
      await store.insertBatch(events, []);
    }
    const client = process.cpuUsage(client0);
    const n = batches * BATCH;
    return {
      client: (client.user + client.system) / n,
      backend: (cpuMicros(rows[0].pid) - backend0) / n,
      // one batch after another: the statement's round trip, commit included
      batchMs: Number(process.hrtime.bigint() - wall0) / 1e6 / batches,
    };
  };
  const drop = async () => {
    await pool.end();
    const db = new Pool({ connectionString: DATABASE_URL, max: 1 });
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  };
  return { root, round, drop, results: [] };
}

async function main() {
  line(
    `insertBatch cost: batches of ${BATCH} ${BODY.length}-byte events, ${BATCHES} batches per ` +
      `round, ${ROUNDS} rounds per tree, alternated`,
  );
  const subjects = [];
  try {
    for (const [i, root] of ROOTS.entries()) subjects.push(await subject(root, i));
    for (const s of subjects) await s.round(Math.ceil(BATCHES / 4)); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      // the order flips every round
      const order = r % 2 === 0 ? subjects : [...subjects].reverse();
      for (const s of order) {
        const res = await s.round(BATCHES);
        s.results.push(res);
        line(
          `  round ${r + 1} ${s.root}: client ${h.fmt(res.client, 1)} µs/event, ` +
            `PostgreSQL backend ${h.fmt(res.backend, 1)} µs/event, ${h.fmt(res.batchMs, 2)} ms per batch`,
        );
      }
    }
    for (const s of subjects) {
      const of = (k) => s.results.map((x) => x[k]);
      line(
        `${s.root}: client ${spread(of('client'), 1)} µs/event, PostgreSQL backend ` +
          `${spread(of('backend'), 1)} µs/event, ${spread(of('batchMs'), 2)} ms per batch`,
      );
    }
  } finally {
    for (const s of subjects) await s.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
