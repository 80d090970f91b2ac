/**
 * Baseline of `pnpm bench:eworker`: a bare amqplib consumer on a single-active-consumer
 * quorum queue, prefetch 100, acking each message as it arrives. Prints one JSON line
 * `{messages, seconds}` once `BENCH_MESSAGES` were acked (timed from the first delivery).
 */
const amqplib = require('amqplib');

async function main() {
  const expected = Number(process.env.BENCH_MESSAGES);
  const connection = await amqplib.connect(process.env.BENCH_RABBITMQ_URL);
  const channel = await connection.createChannel();
  await channel.prefetch(100);
  let count = 0;
  let first = 0n;
  await new Promise((resolve) => {
    void channel.consume(process.env.BENCH_QUEUE, (msg) => {
      if (!msg) return;
      if (count === 0) first = process.hrtime.bigint();
      channel.ack(msg);
      count += 1;
      if (count === expected) resolve();
    });
  });
  const seconds = Number(process.hrtime.bigint() - first) / 1e9;
  process.stdout.write(`${JSON.stringify({ messages: count, seconds })}\n`);
  await connection.close();
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
