'use strict';
// PostgreSQL's CPU per delivery for the delivery service's hot statements alone, as
// DeliveryStore runs them (named statements): before the request ("before") and after it
// ("after"). BENCH_PG_PATH picks the path: `first` (the default where the tree has it) is a first
// attempt of an event without an ordering key: a read of the stored rows before (which the
// service skips for a message the relay published for the first time, x-reten-first-publish),
// one insert of the finished row and its attempt after; `two-step` (events with an ordering key, and every
// event in trees before it) ensures the rows before and updates them after. BENCH_PG_BATCHES
// (500) batches of BENCH_PG_BATCH (6) deliveries spread over BENCH_PG_ENDPOINTS (1) endpoints
// after BENCH_PG_PREFILL (20,000, two-step, batches of 200, not measured), one connection, its
// backend's CPU (utime + stime from /proc, so run it on the database's machine) read around each
// statement. Also prints how each statement was planned (generic or custom plans).
// BENCH_PG_FRESH=1: no prefill and no ANALYZE, the CPU per delivery printed for every 5,000 as
// the tables grow from empty (BENCH_PG_BATCHES batches of BENCH_PG_BATCH; e.g. 4000 of 10), as a
// service starting on a new install meets them. `node bench/delivery/pg-cost.js [root]`
// (root: a built checkout, default this one), to compare two trees without the bench's noise.
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const h = require('../lib/harness');
const { cpuMicros } = require('../lib/stack');
const { migrate, withDb } = require('./shared');

const ROOT = path.resolve(process.argv[2] ?? path.join(__dirname, '../..'));
const { compactCountDeltas, createPool, deliveryIdOf, newEventId } = require(
  path.join(ROOT, 'packages/store/dist/index.js'),
);
const { DeliveryStore, createHotPathPool } = require(
  path.join(ROOT, 'services/delivery/dist/delivery-store.js'),
);

const BATCH = Number(process.env.BENCH_PG_BATCH ?? 6);
const BATCHES = Number(process.env.BENCH_PG_BATCHES ?? 500);
const ENDPOINTS = Number(process.env.BENCH_PG_ENDPOINTS ?? 1);
const FRESH = process.env.BENCH_PG_FRESH === '1';
const PATH = process.env.BENCH_PG_PATH ?? 'first';
const PREFILL = FRESH ? 0 : Number(process.env.BENCH_PG_PREFILL ?? 20_000);
const GROWTH_STEP = 5_000;
// trees that store counts as deltas: compacted every so many deliveries (by default a second's
// worth at 4,000 deliveries/s, as the delivery service compacts every second), its CPU counted
// apart and added to "after"
const COMPACT_EVERY = Number(process.env.BENCH_PG_COMPACT_EVERY ?? 4000);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';

async function main() {
  const schema = `bench_pg_cost_${randomBytes(3).toString('hex')}`;
  await migrate(schema);
  const options = {
    databaseUrl: DATABASE_URL,
    schema,
    statementTimeoutMs: 30_000,
    max: 1,
    applicationName: 'bench-pg-cost',
  };
  // the connection settings of the service's hot path, in trees that have them
  const pool = createHotPathPool ? createHotPathPool(options) : createPool(options);
  try {
    const pid = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    for (let e = 0; e < ENDPOINTS; e++) {
      await pool.query(
        `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret)
         VALUES ($1, 'bench', 'http://127.0.0.1:1/', '{}', 'whsec_x')`,
        [`wh_pgcost${e}`],
      );
    }
    const store = new DeliveryStore(pool, schema);
    let ensureUs = 0;
    let recordUs = 0;
    let compactUs = 0;
    let sinceCompact = 0;
    let n = 0;
    const succeeded = (startedAt) => ({
      startedAt,
      latencyMs: 3,
      succeeded: true,
      statusCode: 204,
      phase: null,
      error: null,
      responseExcerpt: null,
      retryAfterMs: null,
    });
    const done = { status: 'succeeded', token: null, nextAttemptAt: null };
    // a tree before the first-attempt insert has only the two-step path
    const first = PATH === 'first' && typeof store.existingDeliveries === 'function';
    /**
     * One batch of `size` deliveries: their rows read (first) or ensured (two-step) together,
     * then their attempts recorded together.
     */
    const batch = async (size, kind = first ? 'first' : 'two-step') => {
      const events = Array.from({ length: size }, () => ({
        eventId: newEventId(),
        revision: 1,
        eventType: 'bench.x',
        seq: String(++n),
      }));
      // concurrent calls: DeliveryStore makes one statement of each kind for the batch
      let cpu0 = cpuMicros(pid);
      const rows = await Promise.all(
        events.map(async (ev) => {
          const endpointId = `wh_pgcost${n++ % ENDPOINTS}`;
          if (kind === 'two-step') return store.ensureDeliveries('bench', ev, [endpointId]);
          await store.existingDeliveries('bench', ev, [endpointId]);
          const id = deliveryIdOf(endpointId, ev.eventId, ev.revision);
          return [
            {
              id,
              tenantId: 'bench',
              endpointId,
              eventId: ev.eventId,
              revision: 1,
              eventType: ev.eventType,
              eventSeq: ev.seq,
              status: 'pending',
              attempts: 0,
              token: 'initial',
              unsaved: true,
            },
          ];
        }),
      );
      const ensured = cpuMicros(pid) - cpu0;
      const startedAt = new Date();
      cpu0 = cpuMicros(pid);
      await Promise.all(
        rows.map(([row]) => store.recordAttempt(row, row.token, succeeded(startedAt), done)),
      );
      let recorded = cpuMicros(pid) - cpu0;
      sinceCompact += size;
      if (compactCountDeltas && sinceCompact >= COMPACT_EVERY) {
        sinceCompact = 0;
        cpu0 = cpuMicros(pid);
        while ((await compactCountDeltas(pool, 500)) === 500);
        const compacted = cpuMicros(pid) - cpu0;
        compactUs += compacted;
        recorded += compacted;
      }
      return { ensured, recorded };
    };
    if (FRESH) {
      // a service starting on empty tables: its plans are made on a few rows, and nothing
      // analyzes the tables meanwhile; CPU per delivery per GROWTH_STEP deliveries as they grow
      let stepEnsure = 0;
      let stepRecord = 0;
      for (let b = 1; b <= BATCHES; b++) {
        const { ensured, recorded } = await batch(BATCH);
        stepEnsure += ensured;
        stepRecord += recorded;
        if ((b * BATCH) % GROWTH_STEP === 0) {
          process.stdout.write(
            `  after ${b * BATCH} deliveries: before ${h.fmt(stepEnsure / GROWTH_STEP, 0)} µs, ` +
              `after ${h.fmt(stepRecord / GROWTH_STEP, 0)} µs per delivery\n`,
          );
          ensureUs += stepEnsure;
          recordUs += stepRecord;
          stepEnsure = stepRecord = 0;
        }
      }
    } else {
      // the tables as a running service has them: the bench's own scenarios reach ~12,000
      // attempts
      for (let left = PREFILL; left > 0; left -= 200) await batch(Math.min(200, left), 'two-step');
      if (compactCountDeltas) while ((await compactCountDeltas(pool, 500)) === 500);
      await pool.query('ANALYZE webhook_deliveries, webhook_attempts');
      compactUs = 0;
      const client0 = process.cpuUsage();
      for (let b = 0; b < BATCHES; b++) {
        const { ensured, recorded } = await batch(BATCH);
        ensureUs += ensured;
        recordUs += recorded;
      }
      // this process: the store layer and the pg client, plus this harness (events, /proc reads)
      const client = process.cpuUsage(client0);
      process.stdout.write(
        `client process CPU per delivery (store, pg client and this harness): ` +
          `${h.fmt((client.user + client.system) / (BATCHES * BATCH), 1)} µs\n`,
      );
    }
    const per = BATCHES * BATCH;
    process.stdout.write(
      `${ROOT} (${first ? 'first' : 'two-step'}): ${BATCHES} batches of ${BATCH} over ` +
        `${ENDPOINTS} endpoint(s) ` +
        `${FRESH ? 'on tables growing from empty' : `after ${PREFILL} deliveries`}, PostgreSQL CPU ` +
        `per delivery: before ${h.fmt(ensureUs / per, 1)} µs, after ${h.fmt(recordUs / per, 1)} µs, ` +
        `both ${h.fmt((ensureUs + recordUs) / per, 1)} µs` +
        (compactCountDeltas
          ? ` (after: the counts' compaction ${h.fmt(compactUs / per, 1)} µs of it, every ` +
            `${COMPACT_EVERY} deliveries)`
          : '') +
        '\n',
    );
    const plans = await pool.query(
      `SELECT generic_plans, custom_plans, left(regexp_replace(statement, '\\s+', ' ', 'g'), 70) AS s
         FROM pg_prepared_statements ORDER BY s`,
    );
    for (const p of plans.rows) {
      process.stdout.write(
        `  ${p.generic_plans} generic, ${p.custom_plans} custom plans: ${p.s}\n`,
      );
    }
  } finally {
    await pool.end();
    await withDb((db) => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
