/**
 * `pnpm start` (after `tsc -b`): the whole stack as local processes on this machine's servers.
 * Starts whichever of PostgreSQL, Redis, RabbitMQ is down and enables the RabbitMQ management
 * and Prometheus plugins (scripts/ensure-servers.sh), runs the migrations once, runs the auth
 * bootstrap (the `dev` tenant and its key in .reten/dev-api-key) when it is built, then starts
 * every service of scripts/stack-services.js as a child process with its log lines prefixed by
 * its name, waits until each answers /readyz and prints where everything is. Ctrl-C or SIGTERM
 * stops all of them gracefully; if a service dies (at start or later) the others are stopped
 * and the exit status is non-zero.
 *
 * Environment: a `.env` file at the root is read first (see .env.example). The stack runs in
 * development mode (RETEN_ENV=development, which accepts the published development JWT_SECRET)
 * unless RETEN_ENV is set, and says so in its start banner. STACK_PORT_OFFSET
 * shifts every service port (tests run a second stack beside a running one);
 * STACK_LOG_FORMAT=json passes the services' pino JSON through unchanged;
 * STACK_READY_TIMEOUT_MS bounds the wait for /readyz (default 90000).
 */
const { spawn, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { STACK_SERVICES } = require('./stack-services');

const ROOT = path.join(__dirname, '..');
const BOOTSTRAP = path.join(ROOT, 'services/gateway/dist/bootstrap-cli.js');
const MIGRATE = path.join(ROOT, 'packages/store/dist/migrate-cli.js');
const STOP_TIMEOUT_MS = 20_000;
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS = [36, 35, 33, 32, 34, 31];
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const width = Math.max(...STACK_SERVICES.map((s) => s.name.length), 'bootstrap'.length);

function say(message) {
  process.stdout.write(`${'stack'.padEnd(width)} | ${message}\n`);
}

/** One pino JSON line as `12:00:00 INFO  message {fields}`; anything else as it is. */
function pretty(line) {
  if (process.env.STACK_LOG_FORMAT === 'json' || !line.startsWith('{')) return line;
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const { level, time, msg, ...rest } = entry;
  for (const noise of ['pid', 'hostname', 'service']) delete rest[noise];
  const when = new Date(time ?? Date.now());
  const at = Number.isNaN(when.getTime()) ? '' : when.toISOString().slice(11, 19);
  const name = typeof level === 'number' ? (LEVELS[level] ?? String(level)) : String(level);
  const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return `${at} ${name.toUpperCase().padEnd(5)} ${msg ?? ''}${fields}`;
}

/** Prefixes every line of a child's stdout and stderr with `name |`. */
function pipeLines(child, name, index) {
  const label = name.padEnd(width);
  const prefix = color ? `\x1b[${COLORS[index % COLORS.length]}m${label} |\x1b[0m` : `${label} |`;
  for (const stream of [child.stdout, child.stderr]) {
    readline
      .createInterface({ input: stream, crlfDelay: Infinity })
      .on('line', (line) => process.stdout.write(`${prefix} ${pretty(line)}\n`));
  }
}

/** Runs a one-shot node script to completion with prefixed output; throws on failure. */
function runOnce(name, script, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pipeLines(child, name, STACK_SERVICES.length);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** The variable names a process's built config shape reads; undefined when it has none built. */
function configKeys(dir, candidates) {
  for (const candidate of candidates) {
    const file = path.join(ROOT, dir, `${candidate.replace(/(^|\/)src\//, '$1dist/')}.js`);
    if (!existsSync(file)) continue;
    const mod = require(file);
    const name = Object.keys(mod).find((key) => key.endsWith('ConfigShape'));
    if (name) return new Set(Object.keys(mod[name]));
  }
  return undefined;
}

/**
 * `env` without the RETEN_* variables a process does not read: every process refuses unknown
 * RETEN_* keys, while `.env` and the shell hold them for the whole stack (RETEN_HOME and
 * RETEN_BOOTSTRAP_API_KEY are the gateway's and its bootstrap's only).
 */
function envFor(env, keys) {
  if (keys === undefined) return env;
  return Object.fromEntries(
    Object.entries(env).filter(([key]) => !key.startsWith('RETEN_') || keys.has(key)),
  );
}

async function waitReady(service, state, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const url = `http://127.0.0.1:${service.port}/readyz`;
  for (;;) {
    if (state.exited) throw new Error(`${service.name} exited before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${service.name} was not ready within ${timeoutMs} ms (${url})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main() {
  const envFile = path.join(ROOT, '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const offset = Number(process.env.STACK_PORT_OFFSET ?? 0);
  const readyTimeoutMs = Number(process.env.STACK_READY_TIMEOUT_MS ?? 90_000);

  const servers = spawnSync('bash', [path.join(__dirname, 'ensure-servers.sh')], {
    stdio: 'inherit',
  });
  if (servers.status !== 0) throw new Error('PostgreSQL, Redis or RabbitMQ could not be started');

  // Private webhook targets (localhost receivers) are allowed in the local stack only. The
  // local stack is development unless .env or the shell says otherwise: the services accept
  // the published development JWT_SECRET only then.
  const env = {
    ...process.env,
    RETEN_ENV: process.env.RETEN_ENV || 'development',
    WEBHOOK_ALLOW_PRIVATE: 'true',
  };
  const keysOf = new Map(STACK_SERVICES.map((s) => [s.name, configKeys(s.dir, s.config)]));
  const ownKeys = Object.keys(env).filter((key) => key.startsWith('RETEN_'));
  const unread = ownKeys.filter((key) =>
    [...keysOf.values()].every((keys) => keys && !keys.has(key)),
  );
  if (unread.length > 0)
    throw new Error(`no service reads ${unread.join(', ')} (a typo, or a renamed key?)`);
  await runOnce('migrate', MIGRATE, envFor(env, new Set()));
  // where the gateway's bootstrap writes the key (RETEN_HOME, default .reten at the root)
  const devKeyFile = path.join(process.env.RETEN_HOME || path.join(ROOT, '.reten'), 'dev-api-key');
  if (existsSync(BOOTSTRAP))
    await runOnce('bootstrap', BOOTSTRAP, envFor(env, keysOf.get('gateway')));
  else say('auth bootstrap not built yet (services/gateway/dist/bootstrap-cli.js): no dev key');

  const running = [];
  let stopping = false;
  let status = 0;

  const stopAll = (code) => {
    if (stopping) return;
    stopping = true;
    status = code;
    say('stopping every service');
    for (const { child, state } of running) if (!state.exited) child.kill('SIGTERM');
    setTimeout(() => {
      for (const { child, state } of running) if (!state.exited) child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS).unref();
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  STACK_SERVICES.forEach((base, index) => {
    const service = { ...base, port: base.port + offset };
    const mainJs = path.join(ROOT, service.dir, 'dist/main.js');
    if (!existsSync(mainJs)) {
      say(`${service.name}: skipped, not built (${path.relative(ROOT, mainJs)} is missing)`);
      return;
    }
    const serviceEnv = envFor(env, keysOf.get(service.name));
    const child = spawn(process.execPath, [mainJs], {
      cwd: ROOT,
      env: { ...serviceEnv, ...service.env, PORT: String(service.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const state = { exited: false };
    const exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        state.exited = true;
        if (!stopping) {
          say(`${service.name} died (${signal ?? `exit code ${code}`}): stopping the stack`);
          stopAll(1);
        }
        resolve();
      });
    });
    pipeLines(child, service.name, index);
    running.push({ service, child, state, exited });
  });

  try {
    await Promise.all(
      running.map(({ service, state }) => waitReady(service, state, readyTimeoutMs)),
    );
  } catch (err) {
    if (!stopping) say(err instanceof Error ? err.message : String(err));
    stopAll(1);
  }
  if (!stopping) {
    const lines = ['', 'Reten is running (Ctrl-C stops every service):'];
    for (const { service } of running) {
      for (const [what, url] of service.urls)
        lines.push(
          `  ${what.padEnd(24)} ${url.replace(`:${service.port - offset}`, `:${service.port}`)}`,
        );
      lines.push(
        `  ${`${service.name} health`.padEnd(24)} http://localhost:${service.port}/readyz  /metrics`,
      );
    }
    lines.push(`  ${'RabbitMQ management UI'.padEnd(24)} http://localhost:15672 (guest / guest)`);
    lines.push(
      existsSync(devKeyFile)
        ? `  ${'dev API key'.padEnd(24)} ${path.relative(process.cwd(), devKeyFile)}  (curl -H "Authorization: Bearer $(cat ${path.relative(process.cwd(), devKeyFile)})" …)`
        : `  ${'dev API key'.padEnd(24)} none yet (${path.relative(process.cwd(), devKeyFile)} is written by the auth bootstrap)`,
    );
    lines.push(
      '  WEBHOOK_ALLOW_PRIVATE=true: webhooks may target localhost and private addresses (local stack only)',
    );
    lines.push(
      env.RETEN_ENV === 'development'
        ? '  RETEN_ENV=development: development mode, tokens signed with the published JWT_SECRET are accepted (never expose this stack)'
        : `  RETEN_ENV=${env.RETEN_ENV}`,
    );
    lines.push('');
    for (const line of lines) say(line);
  }
  await Promise.all(running.map(({ exited }) => exited));
  say(status === 0 ? 'stopped' : 'stopped after a failure');
  process.exitCode = status;
}

main().catch((err) => {
  say(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
