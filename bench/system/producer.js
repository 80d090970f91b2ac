/**
 * The open-loop producer of the system bench, in its own process (forked once, so its code is
 * warm and its keep-alive connections open after the warm-up step). argv: a JSON setup
 * { baseUrl, apiKey, connections }; each IPC message { cmd: 'run', rate, seconds, firstSeq,
 * out } runs one step and is answered { reply: 'done', summary }.
 *
 * It sends `rate × seconds` events on a fixed schedule: event i is due at start + i / rate,
 * and is sent when due whether or not earlier requests have been answered (if the process
 * falls behind, the late ones go out at once, in a burst). Every latency is measured from the
 * event's INTENDED send time, so a stall of the gateway shows as the latency every scheduled
 * event would have seen, instead of being hidden by a producer that waits (coordinated
 * omission). Events alternate between `log:ClientLog` (valid for the logs eworker's schema)
 * and `order.created`.
 *
 * It writes one JSON line per event to `out`: [seq, type, intendedMs, answeredMs, status,
 * eventId | null] (epoch milliseconds), and prints a summary line as JSON on stdout.
 */
const fs = require('node:fs');
const { Pool } = require('undici');

const TYPES = ['log:ClientLog', 'order.created'];
const REQUEST_TIMEOUT_MS = 10_000;

function body(type, seq, intendedMs) {
  if (type === 'log:ClientLog') {
    return JSON.stringify({
      client: { app_name: 'reten-bench', app_version: '1.0.0', os: 'linux' },
      logs: [
        {
          timestamp: new Date(intendedMs).toISOString(),
          level: 'info',
          message: `system bench event ${seq}`,
        },
      ],
    });
  }
  return JSON.stringify({
    order_id: `ord_${seq}`,
    status: 'pending',
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

async function run(job) {
  const total = Math.round(job.rate * job.seconds);
  const records = new Array(total);
  const pending = [];
  // the schedule runs on the monotonic clock; the records carry epoch times (the receivers
  // and PostgreSQL stamp with the wall clock of the same machine)
  const startEpoch = Date.now();
  const startMono = performance.now();
  const epochOf = (mono) => startEpoch + (mono - startMono);
  let lateSends = 0;

  function send(i) {
    const seq = job.firstSeq + i;
    const type = TYPES[seq % 2];
    const intendedMs = startEpoch + (i * 1000) / job.rate;
    if (Date.now() - intendedMs > 5) lateSends += 1;
    const record = [seq, type, intendedMs, NaN, 0, null];
    records[i] = record;
    pending.push(
      pool
        .request({
          method: 'POST',
          path: `/v1.0/event/${encodeURIComponent(type)}`,
          headers,
          body: body(type, seq, intendedMs),
          // from the send, so it also bounds the wait for a free connection in the pool
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        })
        .then(async (res) => {
          const text = await res.body.text();
          record[3] = epochOf(performance.now());
          record[4] = res.statusCode;
          if (res.statusCode === 202) record[5] = JSON.parse(text).event_id;
        })
        .catch(() => {
          record[3] = epochOf(performance.now());
          record[4] = -1; // no answer within the timeout (counted from the send), or the connection failed
        }),
    );
  }

  let next = 0;
  while (next < total) {
    const elapsed = performance.now() - startMono;
    const due = Math.min(total, Math.floor((elapsed * job.rate) / 1000) + 1);
    while (next < due) send(next++);
    if (next < total) {
      const wait = startMono + (next * 1000) / job.rate - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
  }
  const scheduleEndMs = Date.now();
  await Promise.all(pending);
  fs.writeFileSync(job.out, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const summary = {
    sent: total,
    accepted: records.filter((r) => r[4] === 202).length,
    startMs: startEpoch,
    scheduleEndMs,
    lastAnswerMs: Date.now(),
    lateSends,
  };
  return summary;
}

process.on('message', (msg) => {
  if (msg.cmd === 'run') {
    run(msg).then(
      (summary) => process.send({ reply: 'done', summary }),
      (err) => process.send({ reply: 'done', error: String(err.stack ?? err) }),
    );
  } else if (msg.cmd === 'exit') {
    pool.close().finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ reply: 'ready' });
