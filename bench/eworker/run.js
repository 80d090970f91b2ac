/**
 * `pnpm bench:eworker`: events/s through a no-op eworker (the SDK's whole per-type path)
 * against, in the same run and on the same broker, a bare amqplib consumer on a
 * single-active-consumer quorum queue with prefetch 100 acking each message. Both read the
 * same `BENCH_MESSAGES` relay-shaped messages, preloaded before the consumer starts.
 * Env: BENCH_MESSAGES (50000), BENCH_DATABASE_URL, EWORKER_PREFETCH / EWORKER_MAX_BATCH
 * (passed to the eworker).
 */
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const amqplib = require('amqplib');
const { Client } = require('pg');
const h = require('../lib/harness');

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50_000);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';
const MIGRATE = path.join(h.ROOT, 'packages/store/dist/migrate-cli.js');
const { eworkerTopology, eworkerQueueName, EVENTS_EXCHANGE, MESSAGE_HEADERS } = require(
  path.join(h.ROOT, 'packages/contracts/dist/index.js'),
);

const line = (s) => process.stdout.write(`${s}\n`);

/** What the relay publishes for one event revision. */
function relayMessage(n) {
  const id = `evt_${String(n).padStart(26, '0')}`;
  const content = Buffer.from(
    JSON.stringify({
      event_id: id,
      event_type: 'bench.noop',
      timestamp: new Date().toISOString(),
      revision: 1,
      data: { n },
    }),
  );
  return {
    content,
    options: {
      persistent: true,
      contentType: 'application/json',
      messageId: `${id}:1`,
      headers: {
        [MESSAGE_HEADERS.tenant]: 'bench',
        [MESSAGE_HEADERS.revision]: 1,
        [MESSAGE_HEADERS.seq]: String(n + 1),
      },
    },
  };
}

/** Publishes `MESSAGES` messages with confirms, in chunks. */
async function preload(url, exchange, routingKey) {
  const connection = await amqplib.connect(url);
  const channel = await connection.createConfirmChannel();
  for (let start = 0; start < MESSAGES; start += 1000) {
    for (let n = start; n < Math.min(MESSAGES, start + 1000); n += 1) {
      const m = relayMessage(n);
      channel.publish(exchange, routingKey, m.content, m.options);
    }
    await channel.waitForConfirms();
  }
  await connection.close();
}

async function declare(url, topology) {
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
  for (const e of topology.exchanges)
    await channel.assertExchange(e.name, e.type, { durable: true });
  for (const q of topology.queues) {
    await channel.assertQueue(q.name, { durable: q.durable, arguments: q.arguments });
  }
  for (const b of topology.bindings) await channel.bindQueue(b.queue, b.exchange, b.routingKey);
  await connection.close();
}

/** Starts a consumer process and waits for its `{messages, seconds}` line. */
async function measure(script, env, label) {
  const child = h.startNode(script, [], env, label);
  const deadline = Date.now() + 300_000;
  for (;;) {
    const text = child.output.join('');
    const match = /\{"messages":\d+,"seconds":[\d.e-]+\}/.exec(text);
    if (match) {
      await h.stop(child);
      return JSON.parse(match[0]);
    }
    if (child.exitCode !== null) throw new Error(`${label} exited (${child.exitCode}):\n${text}`);
    if (Date.now() > deadline) {
      await h.stop(child, 'SIGKILL');
      throw new Error(`${label} did not finish:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main() {
  const suffix = randomBytes(3).toString('hex');
  const vhost = h.createVhost(`bench_eworker_${suffix}`);
  const schema = `bench_eworker_${suffix}`;
  try {
    const migrate = h.startNode(
      MIGRATE,
      [],
      { DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn' },
      'migrate',
    );
    if ((await migrate.exited) !== 0)
      throw new Error(`migrate failed:\n${migrate.output.join('')}`);

    // (a) bare consumer: the same queue arguments as an eworker queue
    const bareTopology = eworkerTopology('bench-bare', []);
    await declare(vhost.url, bareTopology);
    const bareQueue = eworkerQueueName('bench-bare');
    await preload(vhost.url, '', bareQueue);
    const bare = await measure(
      path.join(__dirname, 'bare-consumer.js'),
      { BENCH_RABBITMQ_URL: vhost.url, BENCH_QUEUE: bareQueue, BENCH_MESSAGES: String(MESSAGES) },
      'bare consumer',
    );

    // (b) the no-op eworker, its queue declared and preloaded through reten.events
    await declare(vhost.url, eworkerTopology('bench-noop', ['bench.noop']));
    await preload(vhost.url, EVENTS_EXCHANGE, 'bench.noop');
    const eworker = await measure(
      path.join(__dirname, 'noop-eworker.js'),
      {
        PORT: String(await h.freePort()),
        HOST: '127.0.0.1',
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        RABBITMQ_URL: vhost.url,
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'warn',
        BENCH_MESSAGES: String(MESSAGES),
      },
      'no-op eworker',
    );

    const bareRate = bare.messages / bare.seconds;
    const eworkerRate = eworker.messages / eworker.seconds;
    line(`eworker bench: ${h.fmt(MESSAGES)} messages each, same broker, same run`);
    line(
      `  (a) bare amqplib consumer, SAC quorum, prefetch 100, ack each: ${h.fmt(bareRate)} msgs/s`,
    );
    line(
      `  no-op eworker (in order, batched PG marks, acks):            ${h.fmt(eworkerRate)} events/s`,
    );
    line(`  ratio eworker / bare: ${h.fmt(eworkerRate / bareRate, 2)} (goal ≥ 0.70)`);
    const results = path.join(__dirname, '../results');
    fs.mkdirSync(results, { recursive: true });
    fs.writeFileSync(
      path.join(results, `eworker-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
      JSON.stringify({ messages: MESSAGES, bare, eworker, bareRate, eworkerRate }, null, 2),
    );
  } finally {
    vhost.drop();
    const db = new Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
