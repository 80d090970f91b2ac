/**
 * The ordering-key scenario of `pnpm bench:delivery` (also `node bench/delivery/keys.js` after
 * `tsc -b`): one endpoint whose receiver answers after BENCH_KEYS_ANSWER_MS (50) ms, rate limit
 * BENCH_KEYS_RATE_LIMIT (100)/s, the service on its defaults. Events over 100 ordering keys,
 * then the same without keys:
 * - throughput: BENCH_KEYS_MESSAGES (1500) published at once (a backlog); deliveries/s from the
 *   first publish to the last receipt (goal: ≥ 95 % of the rate limit);
 * - added latency: BENCH_KEYS_LATENCY_RATE (80/s) for BENCH_KEYS_LATENCY_SECONDS (5 s);
 *   from the publish to the broker (after the event is stored) to the request's arrival, p50/p99
 *   (the receiver's 50 ms come after the arrival, so this is what the delivery path adds).
 * BENCH_KEYS_RUNS (1) repeats both and prints the medians.
 * Events are stored in the event log as the gateway does (a held delivery is re-sent from it).
 */
const http = require('node:http');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const amqplib = require('amqplib');
const { Pool } = require('pg');
const h = require('../lib/harness');
const { median } = h;
const {
  DATABASE_URL,
  EVENTS_EXCHANGE,
  TENANT,
  migrate,
  sleep,
  startDelivery,
  withDb,
} = require('./shared');

const { EventStore } = require(path.join(h.ROOT, 'packages/store/dist/event-store.js'));
const { newEventId } = require(path.join(h.ROOT, 'packages/store/dist/ids.js'));
const { encodeEventMessage } = require(path.join(h.ROOT, 'packages/broker/dist/event-message.js'));

const KEYS = 100;
const RATE_LIMIT = Number(process.env.BENCH_KEYS_RATE_LIMIT ?? 100);
const ANSWER_MS = Number(process.env.BENCH_KEYS_ANSWER_MS ?? 50);
const MESSAGES = Number(process.env.BENCH_KEYS_MESSAGES ?? 1500);
const LAT_RATE = Number(process.env.BENCH_KEYS_LATENCY_RATE ?? 80);
const LAT_SECONDS = Number(process.env.BENCH_KEYS_LATENCY_SECONDS ?? 5);

const line = (s) => process.stdout.write(`${s}\n`);
const pct = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** When each event was handed to the broker (the receiver runs in this process). */
const publishedAt = new Map();

/** A receiver answering 204 after 50 ms; per run: receipt times and publish→receipt latencies. */
function startReceiver() {
  const runs = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      const run = req.url.split('/')[2] ?? 'none';
      let stats = runs.get(run);
      if (!stats) runs.set(run, (stats = { times: [], latencies: [] }));
      stats.times.push(now);
      const id = JSON.parse(Buffer.concat(chunks).toString()).event_id;
      stats.latencies.push(now - publishedAt.get(id));
      publishedAt.delete(id);
      setTimeout(() => res.writeHead(204).end(), ANSWER_MS);
    });
  });
  server.keepAliveTimeout = 10_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        stats: (run) => runs.get(run) ?? { times: [], latencies: [] },
        close: () => new Promise((r) => server.close(r)),
      }),
    ),
  );
}

/** Stores `n` events (round-robin over KEYS keys, or none) and publishes them as the relay does. */
async function publish(events, channel, n, keyed, paced) {
  const interval = paced ? 1000 / paced : 0;
  const start = Date.now();
  const batch = Math.max(1, Math.min(200, interval ? 1 : 200));
  for (let i = 0; i < n; i += batch) {
    if (interval) {
      const due = start + i * interval;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    const rows = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      rows.push({
        tenantId: TENANT,
        eventId: newEventId(),
        revision: 1,
        eventType: 'bench.keys',
        occurredAt: new Date(),
        dataJson: JSON.stringify({ i: j }),
        ...(keyed ? { orderingKey: `key-${j % KEYS}` } : {}),
      });
    }
    const seqs = await events.insertBatch(rows, []);
    rows.forEach((r, k) => {
      const m = encodeEventMessage({ ...r, receivedAt: r.occurredAt, seq: seqs[k] });
      publishedAt.set(r.eventId, Date.now());
      channel.publish(m.exchange, m.routingKey, m.content, m.options);
    });
    await channel.waitForConfirms();
  }
}

/** One scenario (keyed or not) on a fresh schema and vhost: throughput, then latency. */
async function scenario(receiver, keyed) {
  const tag = `keys${keyed ? 'k' : 'n'}${randomBytes(3).toString('hex')}`;
  const schema = `bench_delivery_${tag}`;
  const vhost = h.createVhost(`bench_delivery_${tag}`);
  await migrate(schema);
  const pool = new Pool({ connectionString: DATABASE_URL, options: `-c search_path="${schema}"` });
  const events = new EventStore(pool, schema);
  let child;
  let conn;
  try {
    const endpoint = async (run) => {
      // the previous run's last outcomes may still be being recorded after their receipt: the
      // delete cascades to those rows, so wait for them (or the two deadlock)
      const settled = Date.now() + 60_000;
      for (;;) {
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status NOT IN ('succeeded', 'failed')`,
        );
        if (rows[0].n === 0) break;
        if (Date.now() > settled) throw new Error(`${rows[0].n} deliveries never settled`);
        await sleep(20);
      }
      await pool.query('DELETE FROM webhook_endpoints');
      await pool.query(
        `INSERT INTO webhook_endpoints (id, tenant_id, url, rate_limit_per_second, secret)
         VALUES ($1, $2, $3, $4, $5)`,
        [
          `wh_BENCHKEYS${randomBytes(8).toString('hex').toUpperCase().slice(0, 15)}`,
          TENANT,
          `http://127.0.0.1:${receiver.port}/run/${run}`,
          RATE_LIMIT,
          `whsec_${randomBytes(32).toString('base64')}`,
        ],
      );
    };
    ({ child } = await startDelivery({ schema, rabbitUrl: vhost.url, tag }));
    conn = await amqplib.connect(vhost.url);
    const channel = await conn.createConfirmChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });

    const tp = `${tag}tp`;
    await endpoint(tp);
    const t0 = Date.now();
    await publish(events, channel, MESSAGES, keyed, 0);
    for (;;) {
      if (receiver.stats(tp).times.length >= MESSAGES) break;
      if (Date.now() - t0 > 300_000) throw new Error(`${tp}: ${receiver.stats(tp).times.length}`);
      await sleep(20);
    }
    const times = receiver.stats(tp).times;
    const perSecond = MESSAGES / ((times[times.length - 1] - t0) / 1000);

    const lat = `${tag}lat`;
    await endpoint(lat);
    const n = LAT_RATE * LAT_SECONDS;
    await publish(events, channel, n, keyed, LAT_RATE);
    const deadline = Date.now() + 120_000;
    while (receiver.stats(lat).times.length < n) {
      if (Date.now() > deadline)
        throw new Error(`${lat}: ${receiver.stats(lat).times.length}/${n}`);
      await sleep(20);
    }
    const sorted = [...receiver.stats(lat).latencies].sort((a, b) => a - b);
    return { perSecond, p50: pct(sorted, 0.5), p99: pct(sorted, 0.99) };
  } finally {
    await conn?.close().catch(() => undefined);
    if (child) await h.stop(child);
    await pool.end();
    vhost.drop();
    await withDb((db) => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
}

function report(label, rs) {
  const perSecond = median(rs.map((r) => r.perSecond));
  line(
    `1 endpoint, receiver answering after ${ANSWER_MS} ms, rate limit ${RATE_LIMIT}/s, ${label}` +
      `${rs.length > 1 ? ` (median of ${rs.length})` : ''}: ${h.fmt(perSecond)} deliveries/s ` +
      `(${h.fmt((100 * perSecond) / RATE_LIMIT)} % of the limit, goal ≥ 95 %); at ${LAT_RATE}/s ` +
      `added latency p50 ${median(rs.map((r) => r.p50))} ms, p99 ${median(rs.map((r) => r.p99))} ms`,
  );
}

/** Runs both scenarios BENCH_KEYS_RUNS times and prints each and the medians; returns the runs. */
async function runKeysScenarios() {
  const runs = Number(process.env.BENCH_KEYS_RUNS ?? 1);
  const receiver = await startReceiver();
  const out = { keys: [], noKeys: [] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const keyed of [true, false]) {
        const r = await scenario(receiver, keyed);
        out[keyed ? 'keys' : 'noKeys'].push(r);
        report(keyed ? `${KEYS} ordering keys, run ${i + 1}` : `no keys, run ${i + 1}`, [r]);
      }
    }
    if (runs > 1) {
      report(`${KEYS} ordering keys`, out.keys);
      report('no keys', out.noKeys);
    }
  } finally {
    await receiver.close();
  }
  return out;
}

module.exports = { runKeysScenarios };

if (require.main === module) {
  runKeysScenarios().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
