/**
 * The baseline of the delivery bench: the same pipeline without Reten's logic. Consumes a
 * quorum queue bound to `reten.events` with amqplib (same prefetch as the delivery service),
 * POSTs each body with undici to the receiver, acks after the 2xx.
 * Args: <amqp url> <queue> <prefetch> <receiver base url>
 */
const { PerformanceObserver } = require('node:perf_hooks');
const amqplib = require('amqplib');
const { Pool } = require('undici');

/** GC pauses of this process so far (ms), what prom-client's nodejs_gc_duration_seconds sums. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
// the bench asks between its samples (IPC)
process.on('message', (m) => {
  if (m === 'gc?') process.send?.({ gcMs });
});

const [url, queue, prefetch, base] = process.argv.slice(2);

async function main() {
  const target = new URL(base);
  const pool = new Pool(target.origin, { connections: Number(prefetch) });
  const conn = await amqplib.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(Number(prefetch));
  const settle = (msg, ok) => {
    try {
      if (ok) ch.ack(msg);
      else ch.nack(msg, false, true);
    } catch {
      // the channel is closing (SIGTERM): the broker requeues what was not acked
    }
  };
  await ch.consume(queue, (msg) => {
    pool
      .request({
        path: `${target.pathname}/${msg.fields.routingKey}`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: msg.content,
      })
      .then(async (res) => {
        await res.body.dump();
        settle(msg, res.statusCode >= 200 && res.statusCode < 300);
      })
      .catch(() => settle(msg, false));
  });
  process.send?.('ready');
  process.on('SIGTERM', () => {
    void conn.close().finally(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`baseline failed: ${err.stack}\n`);
  process.exit(1);
});
