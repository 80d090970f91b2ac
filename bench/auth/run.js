/**
 * `pnpm bench:auth`: what authentication and rate limiting cost on the EVCI ingest path.
 * One gateway process per configuration (own schema and vhost, a bootstrapped key), the same
 * load for each (keep-alive connections, ~120-byte events), measured in the same run:
 *   baseline: API key, rate limits off (RATE_LIMIT_ENABLED=false): authentication only,
 *   API key + Redis rate limit (the default configuration),
 *   JWT + Redis rate limit (a token from POST /api/v1/auth/token).
 * Env: BENCH_DURATION_SECONDS (10), BENCH_CONNECTIONS (50), BENCH_DATABASE_URL, BENCH_REDIS_URL.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const h = require('../lib/harness');

const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/reten_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const GATEWAY = path.join(h.ROOT, 'services/gateway/dist/main.js');
const BOOTSTRAP = path.join(h.ROOT, 'services/gateway/dist/bootstrap-cli.js');
const BODY = JSON.stringify({ order_id: 'ord_456', status: 'pending', total_cents: 12_990 });
const line = (s) => process.stdout.write(`${s}\n`);

async function bootstrap(env) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'reten-bench-auth-'));
  const child = h.startNode(BOOTSTRAP, [], { ...env, RETEN_HOME: home }, 'bootstrap');
  const code = await child.exited;
  if (code !== 0) throw new Error(`bootstrap failed:\n${child.output.join('')}`);
  const key = fs.readFileSync(path.join(home, 'dev-api-key'), 'utf8').trim();
  fs.rmSync(home, { recursive: true, force: true });
  return key;
}

/** Starts a gateway with `extraEnv`, runs `credential(url, key)` to pick the bearer, loads it. */
async function measure(label, extraEnv, credential) {
  const suffix = randomBytes(3).toString('hex');
  const schema = `bench_auth_${suffix}`;
  const vhost = h.createVhost(`bench_auth_${suffix}`);
  const port = await h.freePort();
  const env = {
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    RABBITMQ_URL: vhost.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: `bench:${suffix}:`,
    LOG_LEVEL: 'warn',
    JWT_SECRET: `bench-secret-${suffix}-0123456789`,
    ...extraEnv,
  };
  const key = await bootstrap(env);
  const server = h.startNode(GATEWAY, [], { ...env, PORT: String(port), HOST: '127.0.0.1' }, label);
  try {
    const url = `http://127.0.0.1:${port}`;
    await h.waitReady(`${url}/readyz`, server);
    const bearer = await credential(url, key);
    const load = await h.runLoad({
      url: `${url}/v1.0/event/bench.order`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: BODY,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
    });
    const accepted = load.statusCodes?.['202']?.count ?? load.requests - load.non2xx;
    return {
      label,
      rps: accepted / DURATION,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      non2xx: load.non2xx,
    };
  } finally {
    await h.stop(server);
    await dropSchema(schema);
    vhost.drop();
  }
}

async function dropSchema(schema) {
  const { Client } = require('pg');
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await db.end();
  }
}

async function token(url, key) {
  const res = await fetch(`${url}/api/v1/auth/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

async function main() {
  if (!fs.existsSync(GATEWAY)) throw new Error('build first: tsc -b (pnpm bench:auth does)');
  line(`auth bench: EVCI ingest, ${CONNECTIONS} connections, ${DURATION} s per configuration`);
  const runs = [
    await measure(
      'API key, no rate limit (baseline)',
      { RATE_LIMIT_ENABLED: 'false' },
      (_u, k) => k,
    ),
    await measure('API key + Redis rate limit', {}, (_u, k) => k),
    await measure('JWT + Redis rate limit', {}, token),
  ];
  const base = runs[0].rps;
  for (const r of runs) {
    line(
      `  ${r.label.padEnd(36)} ${h.fmt(r.rps)} accepted/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, non-2xx ${r.non2xx}, ${h.fmt(r.rps / base, 2)}× baseline`,
    );
  }
  fs.mkdirSync(path.join(h.ROOT, 'bench/results'), { recursive: true });
  const file = path.join(h.ROOT, 'bench/results', `auth-${Date.now()}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, runs }, null, 2),
  );
  line(`  written: ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
