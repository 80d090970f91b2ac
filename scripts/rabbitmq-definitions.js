/**
 * `node scripts/rabbitmq-definitions.js [--write]`: renders infra/rabbitmq/definitions.json from
 * STACK_TOPOLOGIES (packages/contracts, built), printing it or, with --write, writing the file.
 * The compose stack's RabbitMQ imports it at boot. An imported definitions file creates no
 * default user or vhost, so the vhost `/`, the `guest` user and its permissions are in it too.
 * tests/repo/rabbitmq-definitions.test.ts fails when the file is stale.
 */
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { formatAs } = require('./prettier-format');

const OUT = path.join(__dirname, '../infra/rabbitmq/definitions.json');
const VHOST = '/';
const USER = 'guest';
/** A fixed salt keeps the output stable, so the file can be checked against this script. */
const SALT = Buffer.from('72657465', 'hex');

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ sha256(salt ‖ password)). */
function passwordHash(password, salt = SALT) {
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password)]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

/** Adds `item` under `key` unless an equal one is there; a different one with the same key throws. */
function addOnce(map, key, item, what) {
  const seen = map.get(key);
  if (seen === undefined) map.set(key, item);
  else if (JSON.stringify(seen) !== JSON.stringify(item)) {
    throw new Error(`${what} ${key} is declared twice with different settings`);
  }
}

/** The definitions document (management API / `load_definitions` format) of the topologies. */
function definitionsFor(topologies) {
  const exchanges = new Map();
  const queues = new Map();
  const bindings = new Map();
  for (const topology of topologies) {
    for (const e of topology.exchanges) {
      addOnce(
        exchanges,
        e.name,
        {
          name: e.name,
          vhost: VHOST,
          type: e.type,
          durable: e.durable,
          auto_delete: false,
          internal: false,
          arguments: {},
        },
        'exchange',
      );
    }
    for (const q of topology.queues) {
      const args = Object.fromEntries(
        Object.entries(q.arguments).sort(([a], [b]) => a.localeCompare(b)),
      );
      addOnce(
        queues,
        q.name,
        { name: q.name, vhost: VHOST, durable: q.durable, auto_delete: false, arguments: args },
        'queue',
      );
    }
    for (const b of topology.bindings) {
      const binding = {
        source: b.exchange,
        vhost: VHOST,
        destination: b.queue,
        destination_type: 'queue',
        routing_key: b.routingKey,
        arguments: {},
      };
      addOnce(bindings, `${b.exchange} ${b.queue} ${b.routingKey}`, binding, 'binding');
    }
  }
  return {
    users: [
      {
        name: USER,
        password_hash: passwordHash('guest'),
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: ['administrator'],
        limits: {},
      },
    ],
    vhosts: [{ name: VHOST }],
    permissions: [{ user: USER, vhost: VHOST, configure: '.*', write: '.*', read: '.*' }],
    topic_permissions: [],
    parameters: [],
    global_parameters: [],
    policies: [],
    exchanges: [...exchanges.values()],
    queues: [...queues.values()],
    bindings: [...bindings.values()],
  };
}

/** The document as one line of JSON; `main` formats it as the file is kept. */
function render(topologies) {
  return JSON.stringify(definitionsFor(topologies));
}

async function main() {
  const { STACK_TOPOLOGIES } = require('../packages/contracts/dist/index.js');
  const text = await formatAs(OUT, render(STACK_TOPOLOGIES));
  if (!process.argv.includes('--write')) {
    process.stdout.write(text);
    return;
  }
  let before = '';
  try {
    before = readFileSync(OUT, 'utf8');
  } catch {
    // first generation
  }
  writeFileSync(OUT, text);
  process.stdout.write(
    `${path.relative(process.cwd(), OUT)} ${before === text ? 'unchanged' : 'written'}\n`,
  );
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

module.exports = { definitionsFor, passwordHash, render, OUT };
