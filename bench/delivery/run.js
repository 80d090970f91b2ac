/**
 * `pnpm bench:delivery`: deliveries/s from the queue to a local receiver (a minimal
 * node:http server answering 204, own process) at 1, 10 and 100 endpoints, against a baseline
 * measured in the same run with the same messages: a bare amqplib consumer (same prefetch)
 * POSTing each message with undici and acking after the 2xx (bench/delivery/baseline.js).
 * The delivery service runs on its default configuration; the run prints every setting it
 * gives that differs from a default, and why. Baseline and service alternate for BENCH_ROUNDS
 * rounds per scenario (the order flips every round); each round prints deliveries/s and the
 * CPU microseconds per delivered event of each consumer process (/proc, utime + stime) and
 * its GC pauses per event (main thread, perf_hooks), and
 * each scenario ends with the median ratio and its spread. Then publish→receipt latency at a
 * paced rate, for both, and the latency Reten adds, with the CPU µs per event of each consumer
 * and of the servers at that rate (the same load for both: steadier than the ratio; e.g.
 * BENCH_LATENCY_RATE=2500 BENCH_LATENCY_SECONDS=8 for a rate where the per-event costs, not
 * the idle ones, dominate; BENCH_ROUNDS=0 runs that phase alone).
 * Env: BENCH_ROUNDS (3), BENCH_MESSAGES (20000 per round: shorter rounds mostly measure the
 * warm-up of both freshly started consumers, see bench/README.md), BENCH_PREFETCH (the service's
 * DELIVERY_PREFETCH default; the baseline uses the same), BENCH_ENDPOINT_IN_FLIGHT (unset: the
 * service's default DELIVERY_ENDPOINT_MAX_IN_FLIGHT, the ceiling of each endpoint's requests in
 * flight; the endpoints' rate limit, 10,000/s, asks for more), BENCH_LATENCY_RATE (200 msg/s),
 * BENCH_LATENCY_SECONDS (3), BENCH_ENDPOINTS (1,10,100), BENCH_DATABASE_URL,
 * BENCH_DELIVERY_NODE_ARGS (node arguments of the delivery process, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_KEYS=0 (skip the ordering-key scenario of
 * bench/delivery/keys.js).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const amqplib = require('amqplib');
const h = require('../lib/harness');
const { spread } = h;
const { cpuMicros, cpuMicrosByName } = require('../lib/stack');
/** The shared servers whose CPU per event each round also prints (the machine has 2 cores). */
const SERVERS = ['postgres', 'redis-server', 'beam.smp'];
const serverMicros = () => Object.values(cpuMicrosByName(SERVERS)).reduce((a, b) => a + b, 0);

/** CPU µs so far of each PostgreSQL backend serving the delivery service (the bench's database). */
async function deliveryBackendMicros() {
  const res = await withDb((db) =>
    db.query(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'reten-delivery%'`,
    ),
  );
  const out = new Map();
  for (const { pid } of res.rows) {
    try {
      out.set(pid, cpuMicros(pid));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/**
 * GC pauses of a consumer process so far, in ms (main thread, what `perf_hooks` reports): the
 * delivery service's `nodejs_gc_duration_seconds` sums from /metrics, the baseline's over IPC.
 * Allocation shows here per round, where the ratio hides it in the host's noise.
 */
async function gcMs(child) {
  if (child.metricsPort === undefined) {
    const reply = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('baseline did not report GC')), 5_000);
      child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m.gcMs);
      });
    });
    child.send('gc?');
    return reply;
  }
  const res = await fetch(`http://127.0.0.1:${child.metricsPort}/metrics`, {
    signal: AbortSignal.timeout(5_000),
  });
  let seconds = 0;
  for (const m of (await res.text()).matchAll(
    /^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm,
  )) {
    seconds += Number(m[1]);
  }
  return seconds * 1000;
}

/** CPU µs the delivery service's backends used between two samples (new backends: all of it). */
function backendMicrosBetween(before, after) {
  let us = 0;
  for (const [pid, v] of after) us += v - (before.get(pid) ?? 0);
  return us;
}
const {
  DELIVERY,
  ENDPOINT_RATE_LIMIT,
  EVENTS_EXCHANGE,
  migrate,
  startDelivery,
  replaceEndpoints,
  startReceiver,
  waitCount,
  publish,
  sleep,
  withDb,
} = require('./shared');
const { runKeysScenarios } = require('./keys');

const CONFIG = path.join(h.ROOT, 'services/delivery/dist/config.js');
const LANES = path.join(h.ROOT, 'services/delivery/dist/endpoint-lanes.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const LAT_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 200);
const LAT_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 3);
const ENDPOINTS = (process.env.BENCH_ENDPOINTS ?? '1,10,100').split(',').map(Number);
/** After the last receipt, the service still records and acks the last attempts. */
const SETTLE_MS = 300;

const line = (s) => process.stdout.write(`${s}\n`);
const pct = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/**
 * The settings the service gets that differ from its defaults, each with why: the bench's own
 * (`env`) and any DELIVERY_* variable of the shell (they pass through to the process).
 */
function settings() {
  const shape = require(CONFIG).deliveryConfigShape;
  const defaults = (name) => shape[name].parse(undefined);
  const env = {};
  const why = {};
  const prefetch = Number(process.env.BENCH_PREFETCH ?? defaults('DELIVERY_PREFETCH'));
  if (prefetch !== defaults('DELIVERY_PREFETCH')) {
    env.DELIVERY_PREFETCH = String(prefetch);
    why.DELIVERY_PREFETCH = 'BENCH_PREFETCH';
  }
  if (process.env.BENCH_ENDPOINT_IN_FLIGHT) {
    env.DELIVERY_ENDPOINT_MAX_IN_FLIGHT = process.env.BENCH_ENDPOINT_IN_FLIGHT;
    why.DELIVERY_ENDPOINT_MAX_IN_FLIGHT = 'BENCH_ENDPOINT_IN_FLIGHT';
  }
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('DELIVERY_') && !(name in env)) {
      env[name] = value;
      why[name] = 'from the shell';
    }
  }
  const differ = Object.keys(env).map((k) => `${k}=${env[k]} (${why[k]})`);
  differ.unshift(
    'WEBHOOK_ALLOW_PRIVATE=true (the receiver listens on 127.0.0.1, which the SSRF guard ' +
      'refuses otherwise; a user sets it only for a local stack or tests)',
  );
  // what each bench endpoint gets from its rate limit, as the service computes it
  const value = (name) => Number(env[name] ?? defaults(name));
  const inFlight = require(LANES).endpointSlots(ENDPOINT_RATE_LIMIT, {
    min: value('DELIVERY_ENDPOINT_MIN_IN_FLIGHT'),
    max: value('DELIVERY_ENDPOINT_MAX_IN_FLIGHT'),
    latencyMs: value('DELIVERY_ENDPOINT_LATENCY_MS'),
  });
  return { env, prefetch, differ, inFlight };
}

async function scenario(receiver, endpoints, config) {
  const tag = `${endpoints}e${randomBytes(3).toString('hex')}`;
  const base = `http://127.0.0.1:${receiver.port}`;
  const schema = `bench_delivery_${tag}`;
  const vhosts = {
    baseline: h.createVhost(`bench_delivery_baseline_${tag}`),
    reten: h.createVhost(`bench_delivery_reten_${tag}`),
  };
  let child;
  try {
    const conn = await amqplib.connect(vhosts.baseline.url);
    const ch = await conn.createChannel();
    await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await ch.assertQueue('bench.baseline', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 50 },
    });
    await ch.bindQueue('bench.baseline', EVENTS_EXCHANGE, '#');
    await conn.close();
    await migrate(schema);

    /** Starts `which` consuming for receiver run `run`; resolves with the process. */
    const start = async (which, run) => {
      const url = vhosts[which].url;
      if (which === 'baseline') {
        // what the previous consumer had POSTed but not acked when it stopped comes back:
        // drop it, or it would count (with its old publish time) in the next run
        const c = await amqplib.connect(url);
        const purge = await c.createChannel();
        await purge.purgeQueue('bench.baseline');
        await c.close();
        const p = fork(
          path.join(__dirname, 'baseline.js'),
          [url, 'bench.baseline', String(config.prefetch), `${base}/run/${run}`],
          { stdio: 'inherit' },
        );
        await new Promise((r) => p.once('message', r));
        return p;
      }
      await replaceEndpoints(schema, endpoints, (i) => `${base}/run/${run}/e${i}`);
      const started = await startDelivery({ schema, rabbitUrl: url, tag, env: config.env });
      started.child.metricsPort = started.port;
      return started.child;
    };

    /**
     * Starts counting the CPU of the consumer, of the servers and (Reten) of its PostgreSQL
     * backends; `perEvent(n)`, called after the last receipt, gives each in µs per event.
     */
    const cpuMeter = async (which) => {
      const cpu0 = cpuMicros(child.pid);
      const servers0 = serverMicros();
      const backends0 = which === 'reten' ? await deliveryBackendMicros() : new Map();
      return {
        perEvent: async (n) => {
          const backendsUs =
            which === 'reten' ? backendMicrosBetween(backends0, await deliveryBackendMicros()) : 0;
          return {
            cpuUsPerEvent: (cpuMicros(child.pid) - cpu0) / n,
            serversCpuUsPerEvent: (serverMicros() - servers0) / n,
            pgCpuUsPerEvent: backendsUs / n,
          };
        },
      };
    };

    /** One throughput run: deliveries/s and CPU µs per delivered event of the consumer. */
    const throughput = async (which, run) => {
      child = await start(which, run);
      const gc0 = await gcMs(child);
      const meter = await cpuMeter(which);
      const t0 = Date.now();
      await publish(vhosts[which].url, MESSAGES, endpoints, 0);
      const t1 = await waitCount(receiver, run, MESSAGES, 300_000);
      await sleep(SETTLE_MS);
      const cpu = await meter.perEvent(MESSAGES);
      const gcUs = ((await gcMs(child)) - gc0) * 1000;
      await h.stop(child);
      child = undefined;
      return {
        perSecond: MESSAGES / ((t1 - t0) / 1000),
        ...cpu,
        gcUsPerEvent: gcUs / MESSAGES,
      };
    };

    const rounds = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 === 1 ? ['baseline', 'reten'] : ['reten', 'baseline'];
      const round = { load: os.loadavg()[0] };
      for (const which of order) round[which] = await throughput(which, `${which}${tag}r${r}`);
      round.ratio = round.reten.perSecond / round.baseline.perSecond;
      rounds.push(round);
      line(
        `${String(endpoints).padStart(3)} endpoint(s), round ${r} (${order.join(' then ')}, ` +
          `load ${h.fmt(round.load, 1)}): baseline ${h.fmt(round.baseline.perSecond)}/s ` +
          `${h.fmt(round.baseline.cpuUsPerEvent)} µs/event, reten ${h.fmt(round.reten.perSecond)}/s ` +
          `${h.fmt(round.reten.cpuUsPerEvent)} µs/event, ratio ${h.fmt(round.ratio, 2)}; ` +
          `servers (${SERVERS.join(', ')}) µs/event baseline ` +
          `${h.fmt(round.baseline.serversCpuUsPerEvent)}, reten ${h.fmt(round.reten.serversCpuUsPerEvent)} ` +
          `(its PostgreSQL backends ${h.fmt(round.reten.pgCpuUsPerEvent)}); GC pauses µs/event ` +
          `baseline ${h.fmt(round.baseline.gcUsPerEvent)}, reten ${h.fmt(round.reten.gcUsPerEvent)}`,
      );
    }

    const latency = {};
    for (const which of ['baseline', 'reten']) {
      const run = `${which}${tag}lat`;
      child = await start(which, run);
      const n = LAT_RATE * LAT_SECONDS;
      // CPU per event at a fixed rate: the same load for both, below what either can take, so
      // the figure does not move with how far each was pushed (steadier than the ratio)
      const meter = await cpuMeter(which);
      await publish(vhosts[which].url, n, endpoints, LAT_RATE);
      await waitCount(receiver, run, n, 300_000);
      await sleep(SETTLE_MS);
      const cpu = await meter.perEvent(n);
      const s = await receiver.stats(run, true);
      const sorted = s.latencies.sort((a, b) => a - b);
      latency[which] = { p50: pct(sorted, 0.5), p99: pct(sorted, 0.99), ...cpu };
      await h.stop(child);
      child = undefined;
    }
    return { rounds, latency };
  } finally {
    if (child) await h.stop(child);
    vhosts.baseline.drop();
    vhosts.reten.drop();
    await withDb((db) => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
}

async function main() {
  if (!fs.existsSync(DELIVERY)) throw new Error('run `tsc -b` first (services/delivery/dist)');
  const config = settings();
  line(
    `delivery bench: ${MESSAGES} messages per round, ${ROUNDS} rounds, prefetch ${config.prefetch} ` +
      `(both consumers), load average ${h.fmt(os.loadavg()[0], 1)}`,
  );
  line(`delivery service on its defaults except: ${config.differ.join('; ')}`);
  line(
    `endpoints at rate_limit_per_second ${h.fmt(ENDPOINT_RATE_LIMIT, 0)} (the API's most): ` +
      `${config.inFlight} requests in flight each`,
  );
  const receiver = await startReceiver();
  const rows = [];
  try {
    for (const endpoints of ENDPOINTS) {
      const { rounds, latency } = await scenario(receiver, endpoints, config);
      const b = latency.baseline;
      const r = latency.reten;
      rows.push({ endpoints, rounds, latency });
      if (rounds.length > 0)
        line(
          `${String(endpoints).padStart(3)} endpoint(s) over ${ROUNDS} rounds, median (min–max): ` +
            `ratio ${spread(rounds.map((x) => x.ratio))} (goal ≥ 0.60); ` +
            `baseline ${spread(
              rounds.map((x) => x.baseline.perSecond),
              0,
            )}/s, ` +
            `${spread(
              rounds.map((x) => x.baseline.cpuUsPerEvent),
              0,
            )} µs/event; ` +
            `reten ${spread(
              rounds.map((x) => x.reten.perSecond),
              0,
            )}/s, ` +
            `${spread(
              rounds.map((x) => x.reten.cpuUsPerEvent),
              0,
            )} µs/event; GC pauses µs/event baseline ${spread(
              rounds.map((x) => x.baseline.gcUsPerEvent),
              0,
            )}, reten ${spread(
              rounds.map((x) => x.reten.gcUsPerEvent),
              0,
            )}`,
        );
      line(
        `${String(endpoints).padStart(3)} endpoint(s) at ${LAT_RATE} msg/s: publish→receipt ` +
          `p50/p99 baseline ${b.p50}/${b.p99} ms, reten ${r.p50}/${r.p99} ms, ` +
          `added p50 ${r.p50 - b.p50} ms, p99 ${r.p99 - b.p99} ms; CPU µs/event baseline ` +
          `${h.fmt(b.cpuUsPerEvent)} (servers ${h.fmt(b.serversCpuUsPerEvent)}), reten ` +
          `${h.fmt(r.cpuUsPerEvent)} (servers ${h.fmt(r.serversCpuUsPerEvent)}, its PostgreSQL ` +
          `backends ${h.fmt(r.pgCpuUsPerEvent)})`,
      );
    }
  } finally {
    receiver.child.kill();
  }
  // ordering keys: one endpoint at its rate limit, with and without keys (bench/delivery/keys.js)
  const keys = process.env.BENCH_KEYS === '0' ? undefined : await runKeysScenarios();
  const out = path.join(h.ROOT, 'bench/results', `delivery-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        messages: MESSAGES,
        prefetch: config.prefetch,
        settings: config.differ,
        inFlight: config.inFlight,
        rows,
        keys,
      },
      null,
      2,
    ),
  );
  line(`(${out})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
