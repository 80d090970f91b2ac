/**
 * `pnpm bench:soak`: the whole stack at a steady moderate rate for a long time, watching
 * whether memory, connections, disk and queues stay flat.
 *
 * Every service `pnpm start` runs (bench/system/stack.js) as its own process, in its own
 * database (SOAK_DATABASE, `reten_soak`, created when missing) and schema, RabbitMQ vhost and
 * Redis prefix; a steady producer (producer.js) of SOAK_RATE events/s over four types
 * (`log:ClientLog` for the logs eworker, `order.created`, `order.paid`, `user.signed_up`); one
 * webhook endpoint on a local receiver that answers 500 to SOAK_WEBHOOK_FAIL_RATIO of the
 * requests (receiver.js), so retries run all the time; SOAK_CLIENTS WebSocket clients
 * (clients.js; one in ten on `*`, the others on one type each). Retention is set to minutes
 * (SOAK_RETENTION_SECONDS) through the RETENTION_* settings the built services read; a run on
 * a build without them says so.
 *
 * Every SOAK_SAMPLE_SECONDS (60) it records, per service process, RSS and heap used (the lowest
 * of the readings taken every 10 s within the minute: the floor after GC, where a leak shows),
 * active handles, open fds and sockets; the database size and its biggest tables; the messages
 * in the vhost's queues; and what the producer, receiver and clients saw. At the end it prints
 * the samples, the slope of each series after SOAK_WARMUP_MINUTES (least squares, per hour),
 * and a last line `SOAK {json}` whose `ok` is false (exit status 1) when a series grows faster
 * than its limit (bench/soak/verdict.js explains the limits).
 *
 * Env (or flags `--minutes=`, `--rate=`, `--clients=`, `--warmup=`): SOAK_MINUTES (20),
 * SOAK_RATE (200), SOAK_CLIENTS (100), SOAK_WARMUP_MINUTES (8), SOAK_SAMPLE_SECONDS (60),
 * SOAK_WEBHOOK_FAIL_RATIO (0.05), SOAK_RETENTION_SECONDS (240), SOAK_PARTITION_SECONDS (120),
 * SOAK_MAX_PARTITIONS (400: the run stops past it, to spare the server's shared lock table),
 * SOAK_LIMITS (JSON),
 * SOAK_DATABASE_URL (postgres://root@127.0.0.1:5432/reten_soak), BENCH_REDIS_URL.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const h = require('../lib/harness');
const { api, checkBuilt, openStack } = require('../system/stack');
const { forkHelper } = require('../system/helper-process');
const { MB, processSample, databaseSample, queueSample, descriptors } = require('./sample');
const { judge, limitsFrom } = require('./verdict');
const { retentionSettings } = require('./retention');
const { printSamples, printVerdicts } = require('./report');

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([a-z]+)=(.+)$/.exec(a))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
const num = (flag, env, def) => Number(flags[flag] ?? process.env[env] ?? def);
const MINUTES = num('minutes', 'SOAK_MINUTES', 20);
const RATE = num('rate', 'SOAK_RATE', 200);
const CLIENTS = num('clients', 'SOAK_CLIENTS', 100);
const WARMUP_MINUTES = num('warmup', 'SOAK_WARMUP_MINUTES', Math.min(8, MINUTES * 0.4));
const SAMPLE_SECONDS = num('sample', 'SOAK_SAMPLE_SECONDS', 60);
const FAIL_RATIO = Number(process.env.SOAK_WEBHOOK_FAIL_RATIO ?? 0.05);
const RETENTION_SECONDS = Number(process.env.SOAK_RETENTION_SECONDS ?? 240);
const LIMITS = limitsFrom(process.env.SOAK_LIMITS);
const DATABASE_URL = process.env.SOAK_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_soak';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TYPES = ['log:ClientLog', 'order.created', 'order.paid', 'user.signed_up'];
const SUBSAMPLE_MS = 10_000;
const MAX_PARTITIONS = Number(process.env.SOAK_MAX_PARTITIONS ?? 400);
// the webhook path must keep up with the load for the queues to stay flat: one request at a
// time per endpoint (the default) sustains ~50/s here (bench:system), far under SOAK_RATE
const DELIVERY_IN_FLIGHT = process.env.DELIVERY_ENDPOINT_MAX_IN_FLIGHT ?? '64';

const line = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Creates the soak's database when missing (through the server's `postgres` database). */
async function ensureDatabase(url) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
  return name;
}

/** Readings every 10 s, kept until the minute's sample takes their floor. */
function startSubsampling(ctx) {
  ctx.floor = new Map();
  const read = async () => {
    for (const s of ctx.stack.services) {
      if (s.child.exitCode !== null) continue;
      try {
        const r = await processSample(s);
        const f = ctx.floor.get(s.name);
        ctx.floor.set(s.name, {
          rss: Math.min(f?.rss ?? Infinity, r.rss),
          heapUsed: Math.min(
            f?.heapUsed ?? Infinity,
            Number.isNaN(r.heapUsed) ? Infinity : r.heapUsed,
          ),
        });
      } catch {
        // the process is gone; the minute's sample reports it
      }
    }
  };
  const timer = setInterval(() => void read(), SUBSAMPLE_MS);
  return () => clearInterval(timer);
}

async function takeSample(ctx, minute) {
  const processes = {};
  for (const s of ctx.stack.services) {
    const r = await processSample(s);
    const f = ctx.floor.get(s.name);
    const floorHeap = Math.min(f?.heapUsed ?? Infinity, r.heapUsed);
    processes[s.name] = {
      rssMB: Math.min(f?.rss ?? Infinity, r.rss) / MB,
      heapMB: Number.isFinite(floorHeap) ? floorHeap / MB : NaN,
      handles: r.handles,
      fds: r.fds,
      sockets: r.sockets,
    };
    // the connections a load generator opens to this service are the generator's choice
    // (undici opens and idles keep-alive connections with the load): count them apart
    const peer = ctx.peers[s.name];
    if (peer) processes[s.name].peerSockets = descriptors(peer.child.pid).sockets;
  }
  ctx.floor.clear();
  const [dbs, queues, produced, received, streamed] = await Promise.all([
    databaseSample(ctx.db, ctx.database, ctx.schema),
    queueSample(ctx.vhost.name),
    ctx.producer.ask({ cmd: 'stats' }, 'stats'),
    ctx.receiver.ask({ cmd: 'stats' }, 'stats'),
    ctx.clients.ask({ cmd: 'stats' }, 'stats'),
  ]);
  const tables = Object.fromEntries(dbs.tables.slice(0, 8).map((t) => [t.name, t.bytes / MB]));
  return {
    minute,
    at: new Date().toISOString(),
    processes,
    dbMB: dbs.dbBytes / MB,
    partitions: dbs.partitions,
    tables,
    tableRows: Object.fromEntries(dbs.tables.slice(0, 8).map((t) => [t.name, t.rows])),
    queued: queues.total,
    queues: queues.queues,
    produced,
    received,
    streamed,
  };
}

async function main(ctx) {
  checkBuilt();
  const suffix = randomBytes(3).toString('hex');
  ctx.schema = `soak_${suffix}`;
  ctx.database = await ensureDatabase(DATABASE_URL);
  const vhostName = `reten_soak_${suffix}`;
  ctx.vhost = { name: vhostName, ...h.createVhost(vhostName) };
  const jwtSecret = `soak-${randomBytes(16).toString('hex')}`;
  const retention = retentionSettings(RETENTION_SECONDS);
  line(
    `soak: ${MINUTES} min at ${RATE} events/s over ${TYPES.length} types, ${CLIENTS} WebSocket clients, ` +
      `one webhook endpoint failing ${(FAIL_RATIO * 100).toFixed(0)} %, samples every ${SAMPLE_SECONDS} s, ` +
      `slopes after ${WARMUP_MINUTES} min; ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  line(
    retention.applied.length > 0
      ? `  retention: ${retention.applied.join(' ')}`
      : '  retention: NONE — the built services read no RETENTION_* setting (everything is kept)',
  );
  // the services inherit this process's environment (bench/lib/harness.js startNode)
  Object.assign(process.env, retention.env, {
    DELIVERY_ENDPOINT_MAX_IN_FLIGHT: DELIVERY_IN_FLIGHT,
    // the migrations run once before the services (prepareSchema), as docker-compose's migrate
    // one-shot does; a service that migrated again at start would create partitions ahead at
    // its own horizon
    MIGRATE_ON_START: 'false',
  });
  await openStack(ctx, {
    databaseUrl: DATABASE_URL,
    rabbitUrl: ctx.vhost.url,
    redisUrl: REDIS_URL,
    jwtSecret,
  });
  line(`  stack: ${ctx.stack.services.map((s) => `${s.name} (pid ${s.child.pid})`).join(', ')}`);
  if (ctx.stack.overrides.length) line(`  settings: ${ctx.stack.overrides.join(' ')}`);

  ctx.receiver = forkHelper('../soak/receiver.js', [String(FAIL_RATIO)]);
  const { port } = await ctx.receiver.ready;
  await api(ctx.stack.portOf('gateway'), ctx.apiKey, 'POST', '/api/v1/webhooks', {
    url: `http://127.0.0.1:${port}/hook`,
    description: 'soak receiver (fails a share of requests)',
    rate_limit_per_second: 10_000,
  });
  const filters = Array.from({ length: CLIENTS }, (_, i) =>
    i % 10 === 0 ? '*' : TYPES[i % TYPES.length],
  );
  ctx.clients = forkHelper('../soak/clients.js', [
    JSON.stringify({
      url: `ws://127.0.0.1:${ctx.stack.portOf('stream')}/events/stream`,
      apiKey: ctx.apiKey,
      filters,
    }),
  ]);
  await ctx.clients.ready;
  ctx.producer = forkHelper('../soak/producer.js', [
    JSON.stringify({
      baseUrl: `http://127.0.0.1:${ctx.stack.portOf('gateway')}`,
      apiKey: ctx.apiKey,
      rate: RATE,
      connections: 256, // as bench:system: enough for the gateway to group commits when it slows down
    }),
  ]);
  await ctx.producer.ready;
  ctx.peers = { gateway: ctx.producer, stream: ctx.clients };
  await ctx.producer.ask({ cmd: 'start' }, 'started');
  const start = Date.now();
  const stopSubsampling = startSubsampling(ctx);
  ctx.samples = [];
  for (let i = 1; i * SAMPLE_SECONDS <= MINUTES * 60; i += 1) {
    const due = start + i * SAMPLE_SECONDS * 1000;
    while (Date.now() < due) {
      const dead = ctx.stack.dead();
      if (dead.length > 0)
        throw new Error(`${dead[0].name} exited (${dead[0].code}):\n${dead[0].output}`);
      await sleep(Math.min(1000, due - Date.now()));
    }
    const sample = await takeSample(ctx, (Date.now() - start) / 60_000);
    ctx.samples.push(sample);
    // every statement that cannot prune locks each partition and its indexes, from the lock
    // table the whole server shares: thousands of partitions starve every other database
    if (sample.partitions > MAX_PARTITIONS)
      throw new Error(
        `${sample.partitions} partitions in ${ctx.schema} (> ${MAX_PARTITIONS}): stopping`,
      );
    printSamples([sample], line, { header: i === 1, seconds: SAMPLE_SECONDS });
  }
  stopSubsampling();
  await ctx.producer.ask({ cmd: 'stop' }, 'stopped');

  const verdicts = judge(ctx.samples, WARMUP_MINUTES, LIMITS);
  line('');
  printSamples(ctx.samples, line, { header: true, seconds: SAMPLE_SECONDS, markdown: true });
  line('');
  printVerdicts(verdicts, line);
  const failed = verdicts.filter((v) => !v.ok);
  const totals = ctx.samples.reduce(
    (a, s) => ({
      sent: a.sent + s.produced.sent,
      accepted: a.accepted + s.produced.accepted,
      webhookRequests: a.webhookRequests + s.received.requests,
      webhookFailed: a.webhookFailed + s.received.failed,
      frames: a.frames + s.streamed.frames,
    }),
    { sent: 0, accepted: 0, webhookRequests: 0, webhookFailed: 0, frames: 0 },
  );
  const dir = path.join(h.ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `soak-${Date.now()}.json`);
  const result = {
    date: new Date().toISOString(),
    minutes: MINUTES,
    rate: RATE,
    clients: CLIENTS,
    warmupMinutes: WARMUP_MINUTES,
    retention: retention.applied,
    limits: LIMITS,
    totals,
    samples: ctx.samples,
    verdicts,
  };
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  line(`results: ${path.relative(process.cwd(), file)}`);
  const summary = {
    ok: failed.length === 0,
    minutes: MINUTES,
    rate: RATE,
    retention: retention.applied.length > 0,
    totals,
    failed: failed.map((v) => ({ series: v.series, perHour: v.perHour, limit: v.limit })),
  };
  line(`SOAK ${JSON.stringify(summary)}`);
  return summary.ok;
}

/**
 * Drops the soak's schema: partitions first, a few per transaction, since one DROP SCHEMA of
 * hundreds of partitions takes a lock per relation in one transaction and can exhaust the
 * server's shared lock table (which every other session shares).
 */
async function dropSchema(db, schema) {
  const parts = await db.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relispartition AND c.relkind IN ('r', 'p')`,
    [schema],
  );
  for (const { relname } of parts.rows) {
    await db.query(`DROP TABLE IF EXISTS "${schema}"."${relname}"`);
  }
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

async function cleanup(ctx) {
  for (const helper of [ctx.producer, ctx.receiver, ctx.clients]) helper?.stop();
  if (ctx.stack) await ctx.stack.stop();
  if (ctx.db) {
    await dropSchema(ctx.db, ctx.schema).catch((err) =>
      process.stderr.write(`soak: schema ${ctx.schema} not dropped: ${err.message}\n`),
    );
    await ctx.db.end().catch(() => undefined);
  }
  try {
    ctx.vhost?.drop();
  } catch {
    // already gone
  }
}

const ctx = {};
const boundSeconds = MINUTES * 60 + 600;
const watchdog = setTimeout(() => {
  process.stderr.write(`soak: run bound of ${boundSeconds} s reached, stopping\n`);
  for (const s of ctx.stack?.services ?? []) s.child.kill('SIGKILL');
  for (const helper of [ctx.producer, ctx.receiver, ctx.clients]) helper?.child.kill('SIGKILL');
  Promise.race([cleanup(ctx), sleep(10_000)]).finally(() => process.exit(1));
}, boundSeconds * 1000);
watchdog.unref();

main(ctx)
  .then(async (ok) => {
    await Promise.race([cleanup(ctx), sleep(180_000)]);
    process.exit(ok ? 0 : 1);
  })
  .catch(async (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    for (const s of ctx.stack?.services ?? []) {
      const tail = s.child.output.join('').trim().split('\n').slice(-10).join('\n');
      if (tail) process.stderr.write(`--- ${s.name} (last lines)\n${tail}\n`);
    }
    line(`SOAK ${JSON.stringify({ ok: false, error: String(err.message ?? err) })}`);
    await Promise.race([cleanup(ctx), sleep(180_000)]);
    process.exit(1);
  });
