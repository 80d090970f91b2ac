/**
 * The stack of the system bench: every service of scripts/stack-services.js (the list
 * `pnpm start` runs: gateway with its outbox relay, stream, delivery, the logs eworker, and any
 * process that joins that list later) as its own process, on 127.0.0.1, in the bench's own
 * database schema, RabbitMQ vhost and Redis key prefix. Webhooks may target the local receiver
 * (WEBHOOK_ALLOW_PRIVATE=true, as the local stack sets it). Everything else is each service's
 * default, and the shell's environment passes through (e.g. DELIVERY_ENDPOINT_MAX_IN_FLIGHT).
 */
const fs = require('node:fs');
const path = require('node:path');
const { Client } = require('pg');
const h = require('../lib/harness');
const { prepareSchema } = require('../lib/stack');
const { STACK_SERVICES } = require('../../scripts/stack-services');

function mainOf(service) {
  return path.join(h.ROOT, service.dir, 'dist/main.js');
}

/** The variable names a service's built config shape reads (as scripts/start-stack.js finds them). */
function configKeys(service) {
  for (const candidate of service.config) {
    const file = path.join(
      h.ROOT,
      service.dir,
      `${candidate.replace(/(^|\/)src\//, '$1dist/')}.js`,
    );
    if (!fs.existsSync(file)) continue;
    const mod = require(file);
    const name = Object.keys(mod).find((key) => key.endsWith('ConfigShape'));
    if (name) return Object.keys(mod[name]);
  }
  return [];
}

/**
 * The settings the shell passes to the services beyond what the bench sets, as `KEY=value`
 * (values of secret-looking keys hidden): the run says what differs from the defaults.
 */
function shellOverrides(benchKeys) {
  const read = new Set(STACK_SERVICES.flatMap(configKeys));
  return Object.keys(process.env)
    .filter((key) => read.has(key) && !benchKeys.includes(key))
    .sort()
    .map((key) =>
      /SECRET|KEY|PASSWORD|TOKEN/.test(key) ? `${key}=…` : `${key}=${process.env[key]}`,
    );
}

/** Throws unless every service of the stack is built. */
function checkBuilt() {
  const missing = STACK_SERVICES.map(mainOf).filter((f) => !fs.existsSync(f));
  if (missing.length > 0)
    throw new Error(`build first: tsc -b (pnpm bench:system does); missing ${missing.join(', ')}`);
}

/**
 * Starts every service and waits until each answers /readyz (bounded). Returns
 * { services: [{ name, child, port }], portOf(name), stop() }.
 */
async function startStack({ databaseUrl, schema, rabbitUrl, redisUrl, jwtSecret }) {
  const common = {
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    RABBITMQ_URL: rabbitUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `${schema}:`,
    LOG_LEVEL: 'warn',
    JWT_SECRET: jwtSecret,
    WEBHOOK_ALLOW_PRIVATE: 'true',
  };
  const services = [];
  const overrides = shellOverrides([...Object.keys(common), 'PORT']);
  try {
    for (const service of STACK_SERVICES) {
      const port = await h.freePort();
      const child = h.startNode(
        mainOf(service),
        [],
        { ...common, ...service.env, PORT: String(port) },
        service.name,
      );
      services.push({ name: service.name, child, port });
    }
    await Promise.all(
      services.map((s) => h.waitReady(`http://127.0.0.1:${s.port}/readyz`, s.child, 90_000)),
    );
  } catch (err) {
    await Promise.all(services.map((s) => h.stop(s.child)));
    throw err;
  }
  return {
    services,
    overrides,
    portOf: (name) => services.find((s) => s.name === name).port,
    /** Processes that died since the start: [{ name, code, output }]. */
    dead: () =>
      services
        .filter((s) => s.child.exitCode !== null || s.child.signalCode !== null)
        .map((s) => ({ name: s.name, code: s.child.exitCode, output: s.child.output.join('') })),
    stop: () => Promise.all(services.map((s) => h.stop(s.child))),
  };
}

/**
 * Opens the bench's database client, migrates its schema with an API key, and starts the stack
 * on it; each is set on `ctx` (db, apiKey, stack) as soon as it exists, so the caller's cleanup
 * closes whatever was opened before a failure.
 */
async function openStack(ctx, { databaseUrl, rabbitUrl, redisUrl, jwtSecret }) {
  ctx.db = new Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
  });
  await ctx.db.connect();
  ctx.apiKey = await prepareSchema({ databaseUrl, schema: ctx.schema, jwtSecret });
  ctx.stack = await startStack({ databaseUrl, schema: ctx.schema, rabbitUrl, redisUrl, jwtSecret });
}

/** One call of the stack's REST API as the bench's key; throws on any answer but 2xx. */
async function api(port, apiKey, method, pathName, body) {
  const res = await fetch(`http://127.0.0.1:${port}${pathName}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${pathName} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

module.exports = { api, checkBuilt, openStack, startStack };
