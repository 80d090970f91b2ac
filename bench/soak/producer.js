/**
 * The steady producer of the soak, in its own process. argv: a JSON setup
 * { baseUrl, apiKey, rate, connections }. It sends `rate` events/s over EVCI
 * (`POST /v1.0/event/{type}`), cycling through TYPES, from the moment it is told
 * `{ cmd: 'start' }` until `{ cmd: 'stop' }`; `{ cmd: 'stats' }` answers what happened since
 * the previous `stats` (sent, accepted, other answers by status, ingest p50/p99 ms) and resets
 * the window, so its memory stays bounded over a run of hours.
 *
 * The schedule is open-loop in 100 ms ticks: each tick sends what is due whether or not the
 * earlier requests were answered. In-flight requests are capped (MAX_IN_FLIGHT): past it a due
 * event is counted as `skipped` instead of piling up in this process.
 */
const { Pool } = require('undici');

const TYPES = ['log:ClientLog', 'order.created', 'order.paid', 'user.signed_up'];
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_IN_FLIGHT = 2_000;
const TICK_MS = 100;

function body(type, seq) {
  if (type === 'log:ClientLog') {
    return JSON.stringify({
      client: { app_name: 'reten-soak', app_version: '1.0.0', os: 'linux' },
      logs: [{ timestamp: new Date().toISOString(), level: 'info', message: `soak ${seq}` }],
    });
  }
  if (type === 'user.signed_up') {
    return JSON.stringify({ user_id: `usr_${seq}`, email: `user${seq}@example.com` });
  }
  return JSON.stringify({
    order_id: `ord_${seq}`,
    status: type === 'order.paid' ? 'paid' : 'pending',
    amount_cents: 1000 + (seq % 9000),
    currency: 'EUR',
  });
}

const setup = JSON.parse(process.argv[2]);
const pool = new Pool(setup.baseUrl, {
  connections: setup.connections,
  headersTimeout: REQUEST_TIMEOUT_MS,
  bodyTimeout: REQUEST_TIMEOUT_MS,
});
const headers = { 'content-type': 'application/json', authorization: `Bearer ${setup.apiKey}` };

let window = newWindow();
let seq = 0;
let inFlight = 0;
let timer;

function newWindow() {
  return { sent: 0, accepted: 0, skipped: 0, statuses: {}, latencies: [] };
}

function send() {
  if (inFlight >= MAX_IN_FLIGHT) {
    window.skipped += 1;
    return;
  }
  const n = seq++;
  const type = TYPES[n % TYPES.length];
  const started = performance.now();
  inFlight += 1;
  window.sent += 1;
  pool
    .request({
      method: 'POST',
      path: `/v1.0/event/${encodeURIComponent(type)}`,
      headers,
      body: body(type, n),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    .then(async (res) => {
      await res.body.text();
      return res.statusCode;
    })
    .catch(() => -1) // no answer within the timeout, or the connection failed
    .then((status) => {
      inFlight -= 1;
      window.latencies.push(performance.now() - started);
      if (status === 202) window.accepted += 1;
      else window.statuses[status] = (window.statuses[status] ?? 0) + 1;
    });
}

function start() {
  const startedAt = performance.now();
  let due = 0;
  timer = setInterval(() => {
    const target = Math.floor(((performance.now() - startedAt) * setup.rate) / 1000);
    while (due < target) {
      send();
      due += 1;
    }
  }, TICK_MS);
}

function stats() {
  const w = window;
  window = newWindow();
  const sorted = Float64Array.from(w.latencies).sort();
  const at = (p) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
  return {
    sent: w.sent,
    accepted: w.accepted,
    skipped: w.skipped,
    statuses: w.statuses,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    inFlight,
  };
}

process.on('message', (msg) => {
  if (msg.cmd === 'start') {
    start();
    process.send({ reply: 'started' });
  } else if (msg.cmd === 'stats') {
    process.send({ reply: 'stats', ...stats() });
  } else if (msg.cmd === 'stop') {
    clearInterval(timer);
    process.send({ reply: 'stopped' });
  } else if (msg.cmd === 'exit') {
    clearInterval(timer);
    pool.close().finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ reply: 'ready' });
