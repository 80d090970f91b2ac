/**
 * `pnpm bench:delivery`: deliveries/s from the queue to a local receiver (a minimal
 * node:http server answering 204, own process) at 1, 10 and 100 endpoints, against a baseline
 * measured in the same run with the same messages: a bare amqplib consumer (same prefetch)
 * POSTing each message with undici and acking after the 2xx (bench/delivery/baseline.js).
 * Then publish→receipt latency at a paced rate, for both, and the latency Reten adds.
 * Env: BENCH_MESSAGES (3000 per scenario), BENCH_PREFETCH (100), BENCH_ENDPOINT_IN_FLIGHT (= prefetch,
 * the delivery service's DELIVERY_ENDPOINT_MAX_IN_FLIGHT), BENCH_LATENCY_RATE (200 msg/s),
 * BENCH_LATENCY_SECONDS (3), BENCH_ENDPOINTS (1,10,100), BENCH_DATABASE_URL.
 */
const fs = require('node:fs');
const path = require('node:path');
const { fork } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const amqplib = require('amqplib');
const h = require('../lib/harness');
const {
  DELIVERY,
  EVENTS_EXCHANGE,
  migrate,
  startDelivery,
  replaceEndpoints,
  startReceiver,
  waitCount,
  publish,
  withDb,
} = require('./shared');

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 3000);
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? 100);
const IN_FLIGHT = Number(process.env.BENCH_ENDPOINT_IN_FLIGHT ?? PREFETCH);
const LAT_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 200);
const LAT_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 3);
const ENDPOINTS = (process.env.BENCH_ENDPOINTS ?? '1,10,100').split(',').map(Number);

const pct = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function scenario(receiver, endpoints) {
  const tag = `${endpoints}e${randomBytes(3).toString('hex')}`;
  const base = `http://127.0.0.1:${receiver.port}`;
  const results = {};
  for (const which of ['baseline', 'reten']) {
    const vhost = h.createVhost(`bench_delivery_${which}_${tag}`);
    let child;
    const runs = { tp: `${which}${tag}tp`, lat: `${which}${tag}lat` };
    const schema = `bench_delivery_${tag}`;
    try {
      if (which === 'baseline') {
        const conn = await amqplib.connect(vhost.url);
        const ch = await conn.createChannel();
        await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
        await ch.assertQueue('bench.baseline', {
          durable: true,
          arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 50 },
        });
        await ch.bindQueue('bench.baseline', EVENTS_EXCHANGE, '#');
        await conn.close();
      }
      const start = async (run) => {
        if (which === 'baseline') {
          child = fork(
            path.join(__dirname, 'baseline.js'),
            [vhost.url, 'bench.baseline', String(PREFETCH), `${base}/run/${run}`],
            { stdio: 'inherit' },
          );
          await new Promise((r) => child.once('message', r));
        } else {
          ({ child } = await startDelivery({
            schema,
            rabbitUrl: vhost.url,
            tag,
            env: {
              DELIVERY_PREFETCH: String(PREFETCH),
              DELIVERY_ENDPOINT_MAX_IN_FLIGHT: String(IN_FLIGHT),
            },
          }));
        }
      };
      if (which === 'reten') await migrate(schema);
      const r = {};
      for (const phase of ['tp', 'lat']) {
        if (which === 'reten') {
          await replaceEndpoints(schema, endpoints, (i) => `${base}/run/${runs[phase]}/e${i}`);
        }
        if (which === 'baseline') {
          // what the previous consumer had POSTed but not acked when it stopped comes back:
          // drop it, or it would count (with its old publish time) in the next phase
          const conn = await amqplib.connect(vhost.url);
          const ch = await conn.createChannel();
          await ch.purgeQueue('bench.baseline');
          await conn.close();
        }
        await start(runs[phase]);
        const n = phase === 'tp' ? MESSAGES : LAT_RATE * LAT_SECONDS;
        const t0 = Date.now();
        await publish(vhost.url, n, endpoints, phase === 'tp' ? 0 : LAT_RATE);
        const t1 = await waitCount(receiver, runs[phase], n, 300_000);
        if (phase === 'tp') r.perSecond = n / ((t1 - t0) / 1000);
        else {
          const s = await receiver.stats(runs[phase], true);
          const sorted = s.latencies.sort((a, b) => a - b);
          r.p50 = pct(sorted, 0.5);
          r.p99 = pct(sorted, 0.99);
        }
        await h.stop(child);
      }
      results[which] = r;
    } finally {
      if (child) await h.stop(child);
      vhost.drop();
      if (which === 'reten') {
        await withDb((db) => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
      }
    }
  }
  return results;
}

async function main() {
  if (!fs.existsSync(DELIVERY)) throw new Error('run `tsc -b` first (services/delivery/dist)');
  const receiver = await startReceiver();
  const rows = [];
  try {
    for (const endpoints of ENDPOINTS) {
      const r = await scenario(receiver, endpoints);
      rows.push({ endpoints, ...r });
      const ratio = r.reten.perSecond / r.baseline.perSecond;
      console.log(
        `${String(endpoints).padStart(3)} endpoint(s): baseline ${h.fmt(r.baseline.perSecond)}/s, ` +
          `reten ${h.fmt(r.reten.perSecond)}/s, ratio ${h.fmt(ratio, 2)} (goal ≥ 0.60); ` +
          `publish→receipt p50/p99 baseline ${r.baseline.p50}/${r.baseline.p99} ms, ` +
          `reten ${r.reten.p50}/${r.reten.p99} ms, added p50 ${r.reten.p50 - r.baseline.p50} ms, ` +
          `p99 ${r.reten.p99 - r.baseline.p99} ms`,
      );
    }
  } finally {
    receiver.child.kill();
  }
  const out = path.join(h.ROOT, 'bench/results', `delivery-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify({ messages: MESSAGES, prefetch: PREFETCH, inFlight: IN_FLIGHT, rows }, null, 2),
  );
  console.log(
    `(${MESSAGES} messages per run, prefetch ${PREFETCH}, ${IN_FLIGHT} in flight per endpoint; ${out})`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
