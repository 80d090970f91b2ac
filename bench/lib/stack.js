/**
 * Pieces for benchmarks that run Reten's own processes: a migrated schema with a bootstrapped
 * key, and the CPU time a process has used (from /proc, so any process can be measured from
 * outside without instrumenting it).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./harness');

const MIGRATE = path.join(h.ROOT, 'packages/store/dist/migrate-cli.js');
const BOOTSTRAP = path.join(h.ROOT, 'services/gateway/dist/bootstrap-cli.js');

async function runToEnd(script, env, label) {
  const child = h.startNode(script, [], env, label);
  const code = await child.exited;
  if (code !== 0) throw new Error(`${label} failed (${code}):\n${child.output.join('')}`);
  return child.output.join('');
}

/**
 * Migrates `schema` of `databaseUrl` and bootstraps a tenant with an all-scopes API key
 * (the same two steps `pnpm start` runs first); returns the key.
 */
async function prepareSchema({ databaseUrl, schema, jwtSecret }) {
  const env = { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn' };
  await runToEnd(MIGRATE, env, 'migrate');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'reten-bench-'));
  const out = await runToEnd(
    BOOTSTRAP,
    { ...env, RETEN_HOME: home, JWT_SECRET: jwtSecret },
    'bootstrap',
  );
  const file = path.join(home, 'dev-api-key');
  const key = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
  fs.rmSync(home, { recursive: true, force: true });
  if (key) return key;
  const match = /rtn_[A-Za-z0-9_-]+/.exec(out);
  if (!match) throw new Error(`bootstrap printed no key:\n${out}`);
  return match[0];
}

let ticksPerSecond;

/** User + system CPU time of process `pid` so far, in microseconds (/proc/<pid>/stat). */
function cpuMicros(pid) {
  return cpuMicrosOfStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of a `/proc/<pid>/stat` line, in µs. */
function cpuMicrosOfStat(stat) {
  if (ticksPerSecond === undefined) {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  }
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14 of the whole line
  const stime = Number(fields[12]); // field 15
  return ((utime + stime) * 1e6) / ticksPerSecond;
}

/**
 * CPU µs used so far by every live process whose command name is one of `names` (e.g. the
 * machine's PostgreSQL backends, `beam.smp`, `redis-server`), summed: sample it before and after a
 * run for the shared servers' share of the work. A process that exits in between is not counted.
 */
function cpuMicrosByName(names) {
  const byName = Object.fromEntries(names.map((n) => [n, 0]));
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const name = names.find((n) => comm === n || comm.startsWith(n));
    if (name === undefined) continue;
    byName[name] += cpuMicrosOfStat(stat);
  }
  return byName;
}

module.exports = { prepareSchema, cpuMicros, cpuMicrosByName };
