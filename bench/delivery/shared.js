/** What the delivery benches share: the receiver process, the publisher, a database client. */
const fs = require('node:fs');
const path = require('node:path');
const { fork } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const amqplib = require('amqplib');
const { Client } = require('pg');
const h = require('../lib/harness');

const EVENTS_EXCHANGE = 'reten.events';
const TENANT = 'bench';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';

const DELIVERY = path.join(h.ROOT, 'services/delivery/dist/main.js');
const { newEventId } = require(path.join(h.ROOT, 'packages/store/dist/ids.js'));
const MIGRATE = path.join(h.ROOT, 'packages/store/dist/migrate-cli.js');

/** Extra node arguments of the delivery process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const NODE_ARGS = (process.env.BENCH_DELIVERY_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Where the delivery process's stdout is also written (`<path>.<pid>`), if set. */
const OUT = process.env.BENCH_DELIVERY_OUT;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the migrations into `schema` of the bench database. */
async function migrate(schema) {
  const env = { DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn' };
  const mig = h.startNode(MIGRATE, [], env, 'migrate');
  if ((await mig.exited) !== 0) throw new Error(`migrate failed:\n${mig.output.join('')}`);
}

/** Starts the delivery service as its real process on `schema` and `rabbitUrl`; resolves when ready. */
async function startDelivery({ schema, rabbitUrl, tag, env = {} }) {
  const port = await h.freePort();
  const child = h.startNode(
    DELIVERY,
    [],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      RABBITMQ_URL: rabbitUrl,
      REDIS_KEY_PREFIX: `bench:${tag}:`,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      ...env,
    },
    'delivery',
    NODE_ARGS,
  );
  if (OUT) {
    // the process's stdout as it comes (node's --trace-* output, which the harness only buffers)
    const file = fs.createWriteStream(`${OUT}.${child.pid}`);
    child.stdout.on('data', (d) => file.write(d));
    child.once('exit', () => file.end());
  }
  await h.waitReady(`http://127.0.0.1:${port}/readyz`, child);
  return { child, port };
}

/**
 * The endpoints' `rate_limit_per_second`: the most the API allows, so the limit does not bound
 * the bench (it also sets each endpoint's requests in flight, see the delivery README's Lanes).
 */
const ENDPOINT_RATE_LIMIT = 10_000;

/** Replaces the endpoints of `schema` with `count`, endpoint i taking type `bench.e<i>` to `urlOf(i)`. */
async function replaceEndpoints(schema, count, urlOf) {
  await withDb(async (db) => {
    await db.query(`SET search_path = "${schema}"`);
    await db.query('DELETE FROM webhook_endpoints');
    for (let i = 0; i < count; i++) {
      await db.query(
        `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, rate_limit_per_second, secret)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          `wh_BENCH${String(i).padStart(22, '0')}`,
          TENANT,
          urlOf(i),
          [`bench.e${i}`],
          ENDPOINT_RATE_LIMIT,
          `whsec_${randomBytes(32).toString('base64')}`,
        ],
      );
    }
  });
}

function startReceiver() {
  const child = fork(path.join(__dirname, 'receiver.js'), [], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.once('message', (m) => {
      const stats = (run, withLatencies = false) =>
        new Promise((res) => {
          const on = (msg) => {
            if (msg.run !== run) return;
            child.off('message', on);
            res(msg);
          };
          child.on('message', on);
          child.send({ cmd: 'stats', run, withLatencies });
        });
      resolve({ child, port: m.port, stats });
    });
  });
}

async function waitCount(receiver, run, n, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await receiver.stats(run);
    if (s.count >= n) return Date.now();
    if (Date.now() > deadline) throw new Error(`run ${run}: ${s.count}/${n} received`);
    await sleep(20);
  }
}

/** Publishes `n` relay-shaped messages round-robin over `endpoints` types; `paced` in msg/s. */
async function publish(url, n, endpoints, paced) {
  const conn = await amqplib.connect(url);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  const interval = paced ? 1000 / paced : 0;
  const start = Date.now();
  for (let i = 0; i < n; i++) {
    if (interval) {
      const due = start + i * interval;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    // a real event id: a ULID of now (the event tables are partitioned by its time)
    const id = newEventId();
    const type = `bench.e${i % endpoints}`;
    const body = JSON.stringify({
      event_id: id,
      event_type: type,
      timestamp: new Date().toISOString(),
      revision: 1,
      data: { i, t: Date.now() },
    });
    ch.publish(EVENTS_EXCHANGE, type, Buffer.from(body), {
      persistent: true,
      contentType: 'application/json',
      messageId: `${id}:1`,
      // as the relay sends a round it publishes for the first time (its steady state; see
      // OutboxRelay): the delivery service then looks for no stored rows of the event
      headers: {
        'x-reten-tenant': TENANT,
        'x-reten-revision': 1,
        'x-reten-seq': String(i + 1),
        'x-reten-first-publish': 1,
      },
    });
    // confirms every 200 messages, paced or not: waiting for each one's held a paced publisher
    // to one message per round trip (~1,000/s here), below the rates asked for
    if (i % 200 === 199) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await conn.close();
}

async function withDb(fn) {
  const db = new Client({ connectionString: DATABASE_URL });
  try {
    await db.connect();
  } catch (err) {
    if (err.code !== '3D000') throw err;
    const admin = new Client({ connectionString: DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${new URL(DATABASE_URL).pathname.slice(1)}"`);
    await admin.end();
    await db.connect();
  }
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

module.exports = {
  ENDPOINT_RATE_LIMIT,
  DATABASE_URL,
  DELIVERY,
  migrate,
  startDelivery,
  replaceEndpoints,
  EVENTS_EXCHANGE,
  TENANT,
  sleep,
  startReceiver,
  waitCount,
  publish,
  withDb,
};
