/**
 * `node bench/delivery/catchup.js` (after `tsc -b`): how long the delivery service takes to drain the backlog a
 * broker outage leaves, and how many deliveries it bounced through retry tiers meanwhile.
 * What the consumer sees after an outage is a queue holding every event published meanwhile:
 * the bench starts the service (topology declared), stops it, publishes BENCH_CATCHUP_EVENTS
 * (4,500: a 90 s outage at 50 events/s) round-robin over the endpoints' types, starts it again
 * and measures start → last receipt, with the service's defaults (prefetch, lane backlog; the
 * endpoints ask for 10,000/s, so each gets DELIVERY_ENDPOINT_MAX_IN_FLIGHT requests in flight).
 * Then reads `reten_webhook_deferred_total{reason="backlog"}`.
 * Env: BENCH_CATCHUP_EVENTS (4500), BENCH_ENDPOINTS (1,10), BENCH_DATABASE_URL, and
 * BENCH_BACKLOG_WAIT_MS (the service's DELIVERY_BACKLOG_WAIT_MS; 0 defers as soon as a lane is
 * full, which is how the service behaved before it waited for room).
 */
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const h = require('../lib/harness');
const {
  DELIVERY,
  migrate,
  startDelivery,
  replaceEndpoints,
  startReceiver,
  waitCount,
  publish,
  withDb,
} = require('./shared');

const EVENTS = Number(process.env.BENCH_CATCHUP_EVENTS ?? 4500);
const ENDPOINTS = (process.env.BENCH_ENDPOINTS ?? '1,10').split(',').map(Number);
const BACKLOG_WAIT_MS = process.env.BENCH_BACKLOG_WAIT_MS;

async function backlogDeferrals(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('reten_webhook_deferred_total') && l.includes('reason="backlog"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function scenario(receiver, endpoints) {
  const tag = `${endpoints}c${randomBytes(3).toString('hex')}`;
  const vhost = h.createVhost(`bench_catchup_${tag}`);
  const schema = `bench_catchup_${tag}`;
  const run = `catchup${tag}`;
  let child;
  try {
    await migrate(schema);
    await replaceEndpoints(
      schema,
      endpoints,
      (i) => `http://127.0.0.1:${receiver.port}/run/${run}/e${i}`,
    );
    const env = BACKLOG_WAIT_MS === undefined ? {} : { DELIVERY_BACKLOG_WAIT_MS: BACKLOG_WAIT_MS };
    let port;
    const start = async () => {
      ({ child, port } = await startDelivery({ schema, rabbitUrl: vhost.url, tag, env }));
    };
    await start();
    await h.stop(child);
    await publish(vhost.url, EVENTS, endpoints, 0);
    const t0 = Date.now();
    await start();
    const t1 = await waitCount(receiver, run, EVENTS, 600_000);
    const deferred = await backlogDeferrals(port);
    return { seconds: (t1 - t0) / 1000, deferred };
  } finally {
    if (child) await h.stop(child);
    vhost.drop();
    await withDb((db) => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
}

async function main() {
  if (!fs.existsSync(DELIVERY)) throw new Error('run `tsc -b` first (services/delivery/dist)');
  const receiver = await startReceiver();
  const rows = [];
  try {
    for (const endpoints of ENDPOINTS) {
      const r = await scenario(receiver, endpoints);
      rows.push({ endpoints, ...r });
      console.log(
        `${String(endpoints).padStart(3)} endpoint(s): ${EVENTS} queued events delivered in ` +
          `${h.fmt(r.seconds, 1)} s, ${r.deferred} deferrals for a full backlog`,
      );
    }
  } finally {
    receiver.child.kill();
  }
  const out = path.join(h.ROOT, 'bench/results', `delivery-catchup-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify({ events: EVENTS, backlogWaitMs: BACKLOG_WAIT_MS ?? 'default', rows }, null, 2),
  );
  console.log(`(${out})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
