/**
 * `pnpm bench:ingest`: the EVCI ingest path under load, against two baselines measured in the
 * same run with the same load (50 keep-alive connections, ~300-byte `log:ClientLog` events):
 *   (a) a bare express 5 app with express.json() answering 202 (the framework's ceiling),
 *   (b) single-row INSERT transactions straight into PostgreSQL at the same concurrency.
 * Then the gateway (own database schema and RabbitMQ vhost), and the time its outbox relay
 * needs to publish everything after the load stops.
 * Env: BENCH_DURATION_SECONDS (10), BENCH_CONNECTIONS (50), BENCH_DATABASE_URL,
 * BENCH_GATEWAY_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the gateway).
 */
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const h = require('../lib/harness');

const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';
const GATEWAY = path.join(h.ROOT, 'services/gateway/dist/main.js');
const MIGRATE = path.join(h.ROOT, 'packages/store/dist/migrate-cli.js');
const BOOTSTRAP = path.join(h.ROOT, 'services/gateway/dist/bootstrap-cli.js');
// a production gateway refuses the published development JWT_SECRET: one of the run's own
const JWT_SECRET = `bench-${randomBytes(16).toString('hex')}`;

const BODY = JSON.stringify({
  client: {
    browser: 'Firefox',
    version: '128.0',
    os: 'Linux',
    screen_width: 1920,
    screen_height: 1080,
    app_name: 'reten-bench',
    app_version: '1.4.2',
  },
  logs: [
    { timestamp: '2026-11-25T12:00:00.000Z', level: 'info', message: 'page loaded in 412 ms' },
    { timestamp: '2026-11-25T12:00:01.000Z', level: 'warn', message: 'slow image /hero.png' },
  ],
});

async function runToEnd(script, env, label) {
  const child = h.startNode(script, [], env, label);
  const code = await child.exited;
  if (code !== 0) throw new Error(`${label} failed (${code}):\n${child.output.join('')}`);
  return child.output.join('');
}

async function migrate(schema) {
  await runToEnd(MIGRATE, { DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn' }, 'migrate');
}

async function withDb(fn) {
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

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
    return await h.runLoad({
      url: `http://127.0.0.1:${port}/v1.0/event/log:ClientLog`,
      headers: { 'content-type': 'application/json' },
      body: BODY,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
    });
  } finally {
    await h.stop(server);
  }
}

async function insertLoop(schema) {
  await migrate(schema);
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

/** Creates a tenant and key in the bench schema when the gateway has authentication. */
async function apiKeyFor(schema) {
  if (!fs.existsSync(BOOTSTRAP)) return undefined;
  const home = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'reten-bench-'));
  const out = await runToEnd(
    BOOTSTRAP,
    { DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn', RETEN_HOME: home, JWT_SECRET },
    'bootstrap',
  );
  const file = path.join(home, 'dev-api-key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const match = /rtn_[A-Za-z0-9_-]+/.exec(out);
  if (!match) throw new Error(`bootstrap printed no key:\n${out}`);
  return match[0];
}

async function gateway(schema, vhost) {
  await migrate(schema);
  const apiKey = await apiKeyFor(schema);
  const port = await h.freePort();
  const server = h.startNode(
    GATEWAY,
    [],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      RABBITMQ_URL: vhost.url,
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'false',
      JWT_SECRET,
    },
    'gateway',
    (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
  );
  try {
    await h.waitReady(`http://127.0.0.1:${port}/readyz`, server);
    const load = await h.runLoad({
      url: `http://127.0.0.1:${port}/v1.0/event/log:ClientLog`,
      headers: {
        'content-type': 'application/json',
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      body: BODY,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
    });
    const loadEnded = Date.now();
    const drain = await withDb(async (db) => {
      for (;;) {
        const { rows } = await db.query(
          `SELECT count(*)::int AS backlog FROM "${schema}".events WHERE published_at IS NULL`,
        );
        if (rows[0].backlog === 0) return { drainMs: Date.now() - loadEnded };
        if (Date.now() - loadEnded > 120_000)
          return { drainMs: Infinity, backlog: rows[0].backlog };
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const stored = await withDb(async (db) => {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM "${schema}".events`);
      return rows[0].n;
    });
    return { ...load, ...drain, stored };
  } finally {
    await h.stop(server);
  }
}

async function main() {
  if (!fs.existsSync(GATEWAY)) throw new Error('build first: tsc -b (pnpm bench:ingest does)');
  const suffix = randomBytes(3).toString('hex');
  const insertSchema = `bench_insert_${suffix}`;
  const gatewaySchema = `bench_ingest_${suffix}`;
  const vhost = h.createVhost(`bench_ingest_${suffix}`);
  const line = (s) => process.stdout.write(`${s}\n`);
  line(
    `ingest bench: ${CONNECTIONS} connections, ${DURATION} s per target, ${Buffer.byteLength(BODY)}-byte log:ClientLog body`,
  );
  try {
    const express = await bareExpress();
    line(
      `  (a) bare express + express.json(): ${h.fmt(express.rps)} req/s, p50 ${express.p50Ms} ms, p99 ${express.p99Ms} ms`,
    );
    const inserts = await insertLoop(insertSchema);
    line(
      `  (b) single-row INSERT loop:        ${h.fmt(inserts.rowsPerSecond)} rows/s, p50 ${h.fmt(inserts.p50Ms, 2)} ms, p99 ${h.fmt(inserts.p99Ms, 2)} ms`,
    );
    const gw = await gateway(gatewaySchema, vhost);
    const accepted = gw.statusCodes?.['202']?.count ?? gw.requests - gw.non2xx;
    line(
      `  gateway EVCI ingest:               ${h.fmt(accepted / DURATION)} accepted events/s, p50 ${gw.p50Ms} ms, p99 ${gw.p99Ms} ms, non-2xx ${gw.non2xx}, errors ${gw.errors}`,
    );
    line(
      `  outbox drained ${h.fmt(gw.drainMs)} ms after the load stopped (${gw.stored} events stored)`,
    );
    const result = {
      date: new Date().toISOString(),
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      bodyBytes: Buffer.byteLength(BODY),
      bareExpress: express,
      insertLoop: inserts,
      gateway: gw,
      ratioVsExpress: accepted / DURATION / express.rps,
      ratioVsInserts: accepted / DURATION / inserts.rowsPerSecond,
    };
    line(
      `  ratio ingest / bare express: ${h.fmt(result.ratioVsExpress, 2)}   ratio ingest / INSERT loop: ${h.fmt(result.ratioVsInserts, 2)}`,
    );
    const dir = path.join(h.ROOT, 'bench/results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, `ingest-${Date.now()}.json`),
      `${JSON.stringify(result, null, 2)}\n`,
    );
  } finally {
    await withDb(async (db) => {
      await db.query(`DROP SCHEMA IF EXISTS "${insertSchema}" CASCADE`);
      await db.query(`DROP SCHEMA IF EXISTS "${gatewaySchema}" CASCADE`);
    }).catch(() => undefined);
    vhost.drop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
