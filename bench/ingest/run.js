/**
 * `pnpm bench:ingest`: the EVCI ingest path under load, against baselines measured in the same
 * run with the same load (50 keep-alive connections, ~340-byte `log:ClientLog` events):
 *   (a) a bare express 5 app with express.json() answering 202 (the framework's ceiling),
 *   (b) single-row INSERT transactions straight into PostgreSQL at the same concurrency (once),
 * then the gateway as `pnpm start` runs it (its own schema and RabbitMQ vhost per round, the
 * outbox relay in its own process when the build has one), and the time the relay needs to
 * publish everything after the load stops. Bare express and the gateway alternate for
 * BENCH_ROUNDS rounds; it prints each round, then the median ratio with its spread, and the CPU
 * microseconds per accepted event of every process measured (/proc, utime + stime).
 * Env: BENCH_ROUNDS (3), BENCH_DURATION_SECONDS (10), BENCH_CONNECTIONS (50),
 * BENCH_DATABASE_URL, BENCH_GATEWAY_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, given
 * to the gateway and the relay), BENCH_INSERT_LOOP (1; 0 skips baseline b), BENCH_BEFORE_DIST (a
 * copy of an earlier `services/gateway/dist` under services/gateway/node_modules/: a third
 * subject alternated with the others, run as that build ran, to compare two builds in one run),
 * BENCH_RELAY (`process`: services/relay as `pnpm start` runs it; `gateway`: in the gateway).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const h = require('../lib/harness');
const { median, spread } = h;
const { cpuMicros, cpuMicrosByName, prepareSchema } = require('../lib/stack');
const { BODY } = require('./body');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** A fixed request rate for both targets (unset: as fast as the connections go). */
const RATE = Number(process.env.BENCH_RATE) || undefined;
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';
const NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const DIST = path.join(h.ROOT, 'services/gateway/dist');
const RELAY_MAIN = path.join(h.ROOT, 'services/relay/dist/main.js');
const BEFORE_DIST = process.env.BENCH_BEFORE_DIST;
// a production gateway refuses the published development JWT_SECRET: one of the run's own
const JWT_SECRET = `bench-${randomBytes(16).toString('hex')}`;

const line = (s) => process.stdout.write(`${s}\n`);

/** The median of each key over a list of `{ key: number }`. */
const medianByKey = (objs) =>
  Object.fromEntries(Object.keys(objs[0]).map((k) => [k, median(objs.map((o) => o[k] ?? 0))]));

async function withDb(fn) {
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** The machine's shared servers, by process name, whose CPU each run also counts. */
const SERVERS = { postgres: 'postgres', rabbitmq: 'beam.smp', redis: 'redis-server' };

/**
 * CPU µs used by each process while `fn` runs, and by the shared servers (`servers`: PostgreSQL,
 * RabbitMQ, Redis; whatever else runs on them counts too, so measure on a quiet machine).
 */
async function measuringCpu(children, fn) {
  const names = Object.values(SERVERS);
  const walBefore = await walCounters();
  const serversBefore = cpuMicrosByName(names);
  const before = children.map((c) => cpuMicros(c.pid));
  const result = await fn();
  const used = children.map((c, i) => cpuMicros(c.pid) - before[i]);
  const serversAfter = cpuMicrosByName(names);
  const walAfter = await walCounters();
  const wal = Object.fromEntries(
    Object.keys(walAfter).map((k) => [k, Number(walAfter[k]) - Number(walBefore[k])]),
  );
  const servers = Object.fromEntries(
    Object.entries(SERVERS).map(([label, name]) => [
      label,
      Math.max(0, serversAfter[name] - serversBefore[name]),
    ]),
  );
  return { result, used, servers, wal };
}

/**
 * PostgreSQL's cluster-wide write counters (pg_stat_wal, commits): sampled around a run, what the
 * database wrote per event (whatever else runs on the server counts too: measure quietly).
 */
function walCounters() {
  return withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT w.wal_records AS records, w.wal_bytes AS bytes, w.wal_sync AS syncs,
              (SELECT sum(xact_commit) FROM pg_stat_database) AS commits
         FROM pg_stat_wal w`,
    );
    return rows[0];
  });
}

/** `WAL 5.1 records, 1,234 B, 0.10 fsyncs; 0.20 commits` per event. */
const walLine = (w) =>
  `WAL ${h.fmt(w.records, 1)} records, ${h.fmt(w.bytes)} B, ${h.fmt(w.syncs, 2)} fsyncs; ${h.fmt(w.commits, 2)} commits`;

/** µs per unit of every CPU figure of a run: `{ label: µs }` → `{ label: µs / n }`. */
const perUnit = (cpu, n) =>
  Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v / Math.max(1, n)]));

/** `gateway 255 + relay 98 + postgres 120 … = 600` */
const machineLine = (cpu) =>
  `${Object.entries(cpu)
    .map(([k, v]) => `${k} ${h.fmt(v)}`)
    .join(' + ')} = ${h.fmt(Object.values(cpu).reduce((a, b) => a + b, 0))}`;

async function bareExpress() {
  const port = await h.freePort();
  const server = h.startNode(
    path.join(__dirname, 'bare-express.js'),
    [],
    { PORT: String(port) },
    'express',
  );
  try {
    await h.waitReady(`http://127.0.0.1:${port}/readyz`, server);
    const { result, used, servers } = await measuringCpu([server], () =>
      h.runLoad({
        url: `http://127.0.0.1:${port}/v1.0/event/log:ClientLog`,
        headers: { 'content-type': 'application/json' },
        body: BODY,
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        overallRate: RATE,
      }),
    );
    return {
      ...result,
      cpuUsPerRequest: used[0] / result.requests,
      // the whole machine's CPU per request: the server, the load generator, and the shared
      // servers (idle here: their background work is the floor every subject pays too)
      machineCpuUs: perUnit(
        { express: used[0], load: result.cpuUs ?? 0, ...servers },
        result.requests,
      ),
    };
  } finally {
    await h.stop(server);
  }
}

async function insertLoop(schema) {
  await prepareSchema({ databaseUrl: DATABASE_URL, schema, jwtSecret: JWT_SECRET });
  const child = h.startNode(
    path.join(__dirname, 'insert-loop.js'),
    [
      JSON.stringify({
        databaseUrl: DATABASE_URL,
        schema,
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        body: BODY,
      }),
    ],
    {},
    'insert-loop',
  );
  const code = await child.exited;
  const text = child.output.join('');
  if (code !== 0) throw new Error(`insert loop failed:\n${text}`);
  return JSON.parse(text.trim().split('\n').pop());
}

/**
 * The gateway of build `dist` as `pnpm start` runs it: given a relay process (`relayMain`), the
 * gateway without its in-process relay (RELAY_ENABLED=false) and the relay as its own process.
 */
async function gateway(dist, relayMain, schema, vhostName) {
  const vhost = h.createVhost(vhostName);
  const apiKey = await prepareSchema({ databaseUrl: DATABASE_URL, schema, jwtSecret: JWT_SECRET });
  const separateRelay = relayMain !== undefined;
  const port = await h.freePort();
  const env = {
    HOST: '127.0.0.1',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    RABBITMQ_URL: vhost.url,
    LOG_LEVEL: 'warn',
    MIGRATE_ON_START: 'false',
    JWT_SECRET,
  };
  const children = [];
  try {
    let relay;
    if (separateRelay) {
      const relayPort = await h.freePort();
      relay = h.startNode(relayMain, [], { ...env, PORT: String(relayPort) }, 'relay', NODE_ARGS);
      children.push(relay);
      await h.waitReady(`http://127.0.0.1:${relayPort}/readyz`, relay);
    }
    const server = h.startNode(
      path.join(dist, 'main.js'),
      [],
      { ...env, PORT: String(port), ...(separateRelay ? { RELAY_ENABLED: 'false' } : {}) },
      'gateway',
      NODE_ARGS,
    );
    children.unshift(server);
    await h.waitReady(`http://127.0.0.1:${port}/readyz`, server);
    const { result, used, servers, wal } = await measuringCpu(children, async () => {
      const load = await h.runLoad({
        url: `http://127.0.0.1:${port}/v1.0/event/log:ClientLog`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: BODY,
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        overallRate: RATE,
      });
      const loadEnded = Date.now();
      const drain = await withDb(async (db) => {
        // the outbox view where the build has one (published_rounds), else the published mark
        const { rows: view } = await db.query('SELECT to_regclass($1) IS NOT NULL AS has', [
          `"${schema}".outbox`,
        ]);
        const backlogSql = view[0].has
          ? `SELECT count(*)::int AS backlog FROM "${schema}".outbox`
          : `SELECT count(*)::int AS backlog FROM "${schema}".events WHERE published_at IS NULL`;
        for (;;) {
          const { rows } = await db.query(backlogSql);
          if (rows[0].backlog === 0) return { drainMs: Date.now() - loadEnded };
          if (Date.now() - loadEnded > 120_000)
            return { drainMs: Infinity, backlog: rows[0].backlog };
          await new Promise((r) => setTimeout(r, 10));
        }
      });
      return { ...load, ...drain };
    });
    const stored = await withDb(async (db) => {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM "${schema}".events`);
      return rows[0].n;
    });
    const accepted = result.statusCodes?.['202']?.count ?? result.requests - result.non2xx;
    return {
      ...result,
      stored,
      accepted,
      acceptedPerSecond: accepted / DURATION,
      separateRelay,
      cpuUsPerEvent: used[0] / Math.max(1, accepted),
      relayCpuUsPerEvent: separateRelay ? used[1] / Math.max(1, accepted) : undefined,
      // PostgreSQL's writes per accepted event (cluster-wide counters)
      walPerEvent: perUnit(wal, accepted),
      // the whole machine's CPU per accepted event, by process: what the ratio is made of
      machineCpuUs: perUnit(
        {
          gateway: used[0],
          ...(separateRelay ? { relay: used[1] } : {}),
          load: result.cpuUs ?? 0,
          ...servers,
        },
        accepted,
      ),
    };
  } finally {
    for (const child of children) await h.stop(child);
    await withDb((db) => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(
      () => undefined,
    );
    vhost.drop();
  }
}

function describe(label, gw, express) {
  const relay = gw.separateRelay
    ? ` + relay ${h.fmt(gw.relayCpuUsPerEvent)} = ${h.fmt(gw.cpuUsPerEvent + gw.relayCpuUsPerEvent)}`
    : ' (relay in process)';
  return (
    `  ${label.padEnd(8)} ${h.fmt(gw.acceptedPerSecond)} accepted/s, p50 ${gw.p50Ms} ms, p99 ${gw.p99Ms} ms, ` +
    `non-2xx ${gw.non2xx}, errors ${gw.errors}, drained in ${h.fmt(gw.drainMs)} ms, ` +
    `ratio ${h.fmt(gw.acceptedPerSecond / express.rps, 2)}; CPU µs/event gateway ${h.fmt(gw.cpuUsPerEvent)}${relay}\n` +
    `           machine CPU µs/event: ${machineLine(gw.machineCpuUs)}\n` +
    `           PostgreSQL per event: ${walLine(gw.walPerEvent)}`
  );
}

async function main() {
  if (!fs.existsSync(path.join(DIST, 'main.js'))) {
    throw new Error('build first: tsc -b (pnpm bench:ingest does)');
  }
  const suffix = randomBytes(3).toString('hex');
  const subjects = [
    {
      label: 'gateway',
      dist: DIST,
      relayMain:
        fs.existsSync(RELAY_MAIN) && process.env.BENCH_RELAY !== 'gateway' ? RELAY_MAIN : undefined,
    },
  ];
  if (BEFORE_DIST) subjects.push({ label: 'before', dist: path.resolve(BEFORE_DIST) });
  line(
    `ingest bench: ${CONNECTIONS} connections, ${DURATION} s per target, ${ROUNDS} rounds, ${Buffer.byteLength(BODY)}-byte log:ClientLog body, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const rounds = [];
  let inserts;
  if (process.env.BENCH_INSERT_LOOP !== '0') {
    const schema = `bench_insert_${suffix}`;
    try {
      inserts = await insertLoop(schema);
    } finally {
      await withDb((db) => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(
        () => undefined,
      );
    }
    line(
      `  (b) single-row INSERT loop: ${h.fmt(inserts.rowsPerSecond)} rows/s, p50 ${h.fmt(inserts.p50Ms, 2)} ms, p99 ${h.fmt(inserts.p99Ms, 2)} ms`,
    );
  }
  for (let i = 0; i < ROUNDS; i += 1) {
    const load = os.loadavg()[0];
    line(`round ${i + 1} (load average ${load.toFixed(1)})`);
    const express = await bareExpress();
    line(
      `  express  ${h.fmt(express.rps)} req/s, p50 ${express.p50Ms} ms, p99 ${express.p99Ms} ms; CPU µs/request ${h.fmt(express.cpuUsPerRequest)}\n` +
        `           machine CPU µs/request: ${machineLine(express.machineCpuUs)}`,
    );
    const round = { load, express, subjects: {} };
    // alternate which subject follows express, so neither always runs right after it
    const order = i % 2 === 0 ? subjects : [...subjects].reverse();
    for (const s of order) {
      const gw = await gateway(
        s.dist,
        s.relayMain,
        `bench_ingest_${suffix}_${i}_${s.label}`,
        `bench_ingest_${suffix}_${i}_${s.label}`,
      );
      round.subjects[s.label] = { ...gw, ratio: gw.acceptedPerSecond / express.rps };
      line(describe(s.label, gw, express));
    }
    rounds.push(round);
  }
  line(`summary over ${ROUNDS} rounds: median (min–max)`);
  line(
    `  express  ${spread(
      rounds.map((r) => r.express.rps),
      0,
    )} req/s, CPU µs/request ${spread(
      rounds.map((r) => r.express.cpuUsPerRequest),
      0,
    )}`,
  );
  const summary = {};
  for (const s of subjects) {
    const rs = rounds.map((r) => r.subjects[s.label]);
    const total = rs.map((g) => g.cpuUsPerEvent + (g.relayCpuUsPerEvent ?? 0));
    summary[s.label] = {
      ratio: median(rs.map((g) => g.ratio)),
      ratioMin: Math.min(...rs.map((g) => g.ratio)),
      ratioMax: Math.max(...rs.map((g) => g.ratio)),
      acceptedPerSecond: median(rs.map((g) => g.acceptedPerSecond)),
      p99Ms: median(rs.map((g) => g.p99Ms)),
      drainMs: median(rs.map((g) => g.drainMs)),
      cpuUsPerEvent: median(rs.map((g) => g.cpuUsPerEvent)),
      cpuUsPerEventWithRelay: median(total),
      machineCpuUs: medianByKey(rs.map((g) => g.machineCpuUs)),
      walPerEvent: medianByKey(rs.map((g) => g.walPerEvent)),
    };
    line(
      `  ${s.label.padEnd(8)} ratio ${spread(rs.map((g) => g.ratio))}, ${spread(
        rs.map((g) => g.acceptedPerSecond),
        0,
      )} accepted/s, ` +
        `p99 ${spread(
          rs.map((g) => g.p99Ms),
          0,
        )} ms, drained in ${spread(
          rs.map((g) => g.drainMs),
          0,
        )} ms, ` +
        `CPU µs/event gateway ${spread(
          rs.map((g) => g.cpuUsPerEvent),
          0,
        )}` +
        (rs[0].separateRelay
          ? `, relay ${spread(
              rs.map((g) => g.relayCpuUsPerEvent),
              0,
            )}, both ${spread(total, 0)}`
          : ' (relay in process)'),
    );
  }
  line(
    `  machine CPU µs per request/event, medians by process: express ${machineLine(
      medianByKey(rounds.map((r) => r.express.machineCpuUs)),
    )}`,
  );
  for (const s of subjects) {
    line(`    ${s.label.padEnd(8)} ${machineLine(summary[s.label].machineCpuUs)}`);
    line(`    ${''.padEnd(8)} PostgreSQL per event: ${walLine(summary[s.label].walPerEvent)}`);
  }
  const dir = path.join(h.ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, `ingest-${Date.now()}.json`),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        bodyBytes: Buffer.byteLength(BODY),
        insertLoop: inserts,
        rounds,
        summary,
      },
      null,
      2,
    )}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
