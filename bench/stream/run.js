/**
 * `pnpm bench:stream`: live stream fan-out through the whole path
 *   HTTP ingest (gateway) → outbox relay → RabbitMQ → stream consumer → Redis → WebSocket
 * to BENCH_STREAM_CLIENTS (1000) clients of one stream replica, held by a separate process,
 * against a baseline in the same run: a bare `ws` server broadcasting the same ~300-byte
 * messages (POSTed to it the same way) to the same clients.
 * Per target it measures:
 *   - deliveries/s (events × clients) draining a burst of BENCH_STREAM_BURST_EVENTS (500)
 *     events published as fast as 16 HTTP connections allow;
 *   - publish→receive latency p50/p99 at BENCH_STREAM_RATE (10) events/s for 5 s (sampled on
 *     one client in 20; "publish" = the HTTP request leaving the bench);
 *   - server RSS per idle connection (RSS after connecting the clients minus before, / clients).
 * Env: BENCH_STREAM_CLIENTS, BENCH_STREAM_BURST_EVENTS, BENCH_STREAM_RATE,
 * BENCH_STREAM_CLIENT_PROCESSES (1: the clients' own process; more spreads them), BENCH_DATABASE_URL,
 * BENCH_STREAM_NODE_OPTIONS (NODE_OPTIONS of the stream process only, e.g. `--require <profiler.js>`).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { Pool } = require('undici');
const { Client } = require('pg');
const h = require('../lib/harness');

const CLIENTS = Number(process.env.BENCH_STREAM_CLIENTS ?? 1000);
const BURST = Number(process.env.BENCH_STREAM_BURST_EVENTS ?? 500);
const RATE = Number(process.env.BENCH_STREAM_RATE ?? 10);
const CLIENT_PROCESSES = Number(process.env.BENCH_STREAM_CLIENT_PROCESSES ?? 1);
const LATENCY_SECONDS = 5;
const PRODUCER_CONNECTIONS = 16;
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const GATEWAY = path.join(h.ROOT, 'services/gateway/dist/main.js');
const STREAM = path.join(h.ROOT, 'services/stream/dist/main.js');
const MIGRATE = path.join(h.ROOT, 'packages/store/dist/migrate-cli.js');
const BOOTSTRAP = path.join(h.ROOT, 'services/gateway/dist/bootstrap-cli.js');
// a production gateway and stream refuse the published development JWT_SECRET: one of the run's own
const JWT_SECRET = `bench-${require('node:crypto').randomBytes(16).toString('hex')}`;
const PAD = 'x'.repeat(120);

const line = (s) => process.stdout.write(`${s}\n`);
const now = () => performance.timeOrigin + performance.now();

async function runToEnd(script, env, label) {
  const child = h.startNode(script, [], env, label);
  const code = await child.exited;
  if (code !== 0) throw new Error(`${label} failed (${code}):\n${child.output.join('')}`);
  return child.output.join('');
}

/** Migrates the bench schema and bootstraps a tenant with an all-scopes key; returns the key. */
async function prepareSchema(schema) {
  const env = { DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn' };
  await runToEnd(MIGRATE, env, 'migrate');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'reten-bench-'));
  const out = await runToEnd(BOOTSTRAP, { ...env, RETEN_HOME: home, JWT_SECRET }, 'bootstrap');
  const file = path.join(home, 'dev-api-key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const match = /rtn_[A-Za-z0-9_-]+/.exec(out);
  if (!match) throw new Error(`bootstrap printed no key:\n${out}`);
  return match[0];
}

function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

/** One clients process, driven over IPC. */
function startClientProcess() {
  const child = fork(path.join(__dirname, 'clients.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = [];
  child.on('message', (msg) => {
    const i = waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  });
  const request = (msg, replyType, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`clients: no ${replyType} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.push({
        type: replyType,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      child.send(msg);
    });
  return {
    request,
    close: async () => {
      child.send({ type: 'close' });
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** CLIENTS WebSocket clients spread over CLIENT_PROCESSES processes. */
function startClients() {
  const procs = Array.from({ length: CLIENT_PROCESSES }, startClientProcess);
  const all = (fn) => Promise.all(procs.map(fn));
  return {
    connect: async (url, headers) => {
      const share = Math.ceil(CLIENTS / procs.length);
      const replies = await all((p, i) =>
        p.request(
          { type: 'connect', url, headers, count: Math.min(share, CLIENTS - i * share) },
          'connected',
        ),
      );
      return { count: replies.reduce((n, r) => n + r.count, 0) };
    },
    reset: () => all((p) => p.request({ type: 'reset' }, 'reset')),
    /** Resolves with the time the last process saw `events` events reach all its clients. */
    expect: async (events, timeoutMs) => {
      const replies = await all((p) => p.request({ type: 'expect', events }, 'reached', timeoutMs));
      return { atMs: Math.max(...replies.map((r) => r.atMs)) };
    },
    report: async () => {
      const replies = await all((p) => p.request({ type: 'report' }, 'report'));
      const sorted = replies.flatMap((r) => r.latencies).sort((a, b) => a - b);
      return {
        deliveries: replies.reduce((n, r) => n + r.deliveries, 0),
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        samples: sorted.length,
        closed: replies.reduce((n, r) => n + r.closed, 0),
      };
    },
    close: () => all((p) => p.close()),
  };
}

/** Sends `count` events with PRODUCER_CONNECTIONS in flight; `body()` is called at send time. */
async function burst(pool, pathName, headers, count, body) {
  let next = 0;
  async function worker() {
    while (next < count) {
      next += 1;
      const res = await pool.request({ method: 'POST', path: pathName, headers, body: body() });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`publish answered ${res.statusCode}`);
    }
  }
  await Promise.all(Array.from({ length: PRODUCER_CONNECTIONS }, worker));
}

/** Sends `rate` events/s for `seconds`, each stamped when sent. */
async function paced(pool, pathName, headers, rate, seconds, body) {
  const total = rate * seconds;
  const start = now();
  const pending = [];
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      pool
        .request({ method: 'POST', path: pathName, headers, body: body() })
        .then((res) => res.body.dump()),
    );
  }
  await Promise.all(pending);
  return total;
}

/** One target: connect the clients, measure memory, burst throughput, paced latency. */
async function measure(
  label,
  { baseUrl, wsUrl, wsHeaders, publishPath, publishHeaders, body, pid },
) {
  const clients = startClients();
  const pool = new Pool(baseUrl, { connections: PRODUCER_CONNECTIONS });
  try {
    const rssBefore = rssKiB(pid);
    const connected = await clients.connect(wsUrl, wsHeaders);
    if (connected.count !== CLIENTS)
      throw new Error(`${label}: only ${connected.count} clients connected`);
    // warm-up: subscriptions settle, JITs warm, and every client is known to receive
    await clients.reset();
    const warm = clients.expect(10, 60_000);
    await burst(pool, publishPath, publishHeaders, 10, body);
    await warm;
    const rssAfter = rssKiB(pid);
    const perConnectionKiB = (rssAfter - rssBefore) / CLIENTS;

    await clients.reset();
    const reached = clients.expect(BURST, 180_000);
    const t0 = now();
    await burst(pool, publishPath, publishHeaders, BURST, body);
    const { atMs } = await reached;
    const deliveriesPerSecond = (BURST * CLIENTS) / ((atMs - t0) / 1000);

    await clients.reset();
    const sent = await paced(pool, publishPath, publishHeaders, RATE, LATENCY_SECONDS, body);
    await clients.expect(sent, 60_000).catch(() => undefined);
    const latency = await clients.report();
    const result = {
      deliveriesPerSecond,
      eventsPerSecond: deliveriesPerSecond / CLIENTS,
      burstSeconds: (atMs - t0) / 1000,
      p50Ms: latency.p50Ms,
      p99Ms: latency.p99Ms,
      latencySamples: latency.samples,
      closedClients: latency.closed,
      rssBeforeKiB: rssBefore,
      rssAfterKiB: rssAfter,
      perConnectionKiB,
    };
    line(
      `  ${label.padEnd(26)} ${h.fmt(result.deliveriesPerSecond)} deliveries/s (${h.fmt(result.eventsPerSecond)} events/s × ${CLIENTS}), ` +
        `latency p50 ${h.fmt(result.p50Ms, 1)} ms p99 ${h.fmt(result.p99Ms, 1)} ms, ` +
        `RSS ${h.fmt(perConnectionKiB, 1)} KiB/connection, ${result.closedClients} clients closed`,
    );
    return result;
  } finally {
    await pool.close();
    await clients.close();
  }
}

async function bare() {
  const port = await h.freePort();
  const server = h.startNode(
    path.join(__dirname, 'bare-ws-server.js'),
    [],
    { PORT: String(port) },
    'bare-ws',
  );
  try {
    await h.waitReady(`http://127.0.0.1:${port}/readyz`, server);
    let n = 0;
    return await measure('(baseline) bare ws', {
      baseUrl: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}/`,
      wsHeaders: {},
      publishPath: '/publish',
      publishHeaders: { 'content-type': 'application/json' },
      body: () => {
        n += 1;
        return JSON.stringify({
          event_id: `evt_01J8Z3V6ZV4X3M2N9Q8R${String(n).padStart(6, '0')}`,
          event_type: 'bench.tick',
          timestamp: new Date().toISOString(),
          revision: 1,
          data: { t: now(), pad: PAD },
        });
      },
      pid: server.pid,
    });
  } finally {
    await h.stop(server);
  }
}

async function reten(schema, vhost, apiKey) {
  const common = {
    HOST: '127.0.0.1',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    RABBITMQ_URL: vhost.url,
    LOG_LEVEL: 'warn',
    MIGRATE_ON_START: 'false',
    JWT_SECRET,
  };
  const streamPort = await h.freePort();
  const gatewayPort = await h.freePort();
  const stream = h.startNode(
    STREAM,
    [],
    {
      ...common,
      PORT: String(streamPort),
      REDIS_URL,
      REDIS_KEY_PREFIX: `${schema}:`,
      STREAM_MAX_CONNECTIONS_PER_TENANT: String(CLIENTS * 2),
      ...(process.env.BENCH_STREAM_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_STREAM_NODE_OPTIONS }
        : {}),
    },
    'stream',
  );
  const gateway = h.startNode(GATEWAY, [], { ...common, PORT: String(gatewayPort) }, 'gateway');
  try {
    await h.waitReady(`http://127.0.0.1:${streamPort}/readyz`, stream);
    await h.waitReady(`http://127.0.0.1:${gatewayPort}/readyz`, gateway);
    return await measure('Reten (full path)', {
      baseUrl: `http://127.0.0.1:${gatewayPort}`,
      wsUrl: `ws://127.0.0.1:${streamPort}/events/stream?types=*`,
      wsHeaders: { authorization: `Bearer ${apiKey}` },
      publishPath: '/v1.0/event/bench.tick',
      publishHeaders: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: () => JSON.stringify({ t: now(), pad: PAD }),
      pid: stream.pid,
    });
  } finally {
    await h.stop(gateway);
    await h.stop(stream);
  }
}

async function main() {
  for (const f of [GATEWAY, STREAM, BOOTSTRAP]) {
    if (!fs.existsSync(f))
      throw new Error(`build first: tsc -b (pnpm bench:stream does); missing ${f}`);
  }
  const suffix = randomBytes(3).toString('hex');
  const schema = `bench_stream_${suffix}`;
  const vhost = h.createVhost(`bench_stream_${suffix}`);
  line(
    `stream bench: ${CLIENTS} WebSocket clients in ${CLIENT_PROCESSES} process(es) of their own, burst of ${BURST} events, ` +
      `latency at ${RATE} events/s for ${LATENCY_SECONDS} s, ${os.cpus().length} CPUs shared by every process`,
  );
  try {
    const apiKey = await prepareSchema(schema);
    const baseline = await bare();
    const full = await reten(schema, vhost, apiKey);
    const result = {
      date: new Date().toISOString(),
      clients: CLIENTS,
      burstEvents: BURST,
      ratePerSecond: RATE,
      baseline,
      reten: full,
      throughputRatio: full.deliveriesPerSecond / baseline.deliveriesPerSecond,
      memoryRatio: full.perConnectionKiB / baseline.perConnectionKiB,
    };
    line(
      `  ratio deliveries/s Reten / bare ws: ${h.fmt(result.throughputRatio, 2)} (goal ≥ 0.5)   ` +
        `memory per connection Reten / bare ws: ${h.fmt(result.memoryRatio, 2)} (goal ≤ 3)`,
    );
    const dir = path.join(h.ROOT, 'bench/results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, `stream-${Date.now()}.json`),
      `${JSON.stringify(result, null, 2)}\n`,
    );
  } finally {
    const db = new Client({ connectionString: DATABASE_URL });
    await db
      .connect()
      .then(() => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
      .catch(() => undefined);
    await db.end().catch(() => undefined);
    vhost.drop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
