/** Small shared pieces of the benchmarks: child processes, readiness, figures. */
const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

/** A TCP port that was free a moment ago. */
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawns `node [nodeArgs] script args` with env; output kept for when it fails. */
function startNode(script, args, env, label, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stdout.on('data', (d) => output.push(d.toString()));
  child.stderr.on('data', (d) => output.push(d.toString()));
  child.label = label;
  child.output = output;
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  return child;
}

async function stop(child, signal = 'SIGTERM') {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await child.exited;
}

/** Polls `url` until it answers 200 (bounded). */
async function waitReady(url, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) {
      throw new Error(`${child.label} exited with ${child.exitCode}:\n${child.output.join('')}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the autocannon load process and returns its JSON result. */
function runLoad(job) {
  return new Promise((resolve, reject) => {
    const child = startNode(path.join(__dirname, 'load.js'), [JSON.stringify(job)], {}, 'load');
    child.exited.then((code) => {
      const text = child.output.join('');
      if (code !== 0) return reject(new Error(`load failed (${code}):\n${text}`));
      try {
        resolve(JSON.parse(text.trim().split('\n').pop()));
      } catch (err) {
        reject(new Error(`unreadable load result: ${text} (${err.message})`));
      }
    });
  });
}

/** Creates a RabbitMQ vhost for a benchmark (rabbitmqctl, the local broker). */
function createVhost(name) {
  execFileSync('rabbitmqctl', ['add_vhost', name], { stdio: 'ignore' });
  execFileSync('rabbitmqctl', ['set_permissions', '-p', name, 'guest', '.*', '.*', '.*'], {
    stdio: 'ignore',
  });
  return {
    url: `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(name)}`,
    drop: () => execFileSync('rabbitmqctl', ['delete_vhost', name], { stdio: 'ignore' }),
  };
}

const fmt = (n, digits = 0) =>
  Number(n).toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });

/** The median of numbers (the mean of the middle two for an even count). */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `median (min–max)` of numbers, formatted with `digits` decimals. */
const spread = (xs, digits = 2) =>
  `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;

module.exports = {
  ROOT,
  freePort,
  startNode,
  stop,
  waitReady,
  runLoad,
  createVhost,
  fmt,
  median,
  spread,
};
