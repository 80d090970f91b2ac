'use strict';
// CPU µs per webhook request of the delivery service's WebhookSender alone: a local node:http
// server answering 204 in a child process, 20 requests in flight, 5,000 requests of warm-up,
// then 3 × 10,000 measured with process.cpuUsage(). `node bench/delivery/sender-cpu.js [root]`
// (root: a built checkout, default this one), to compare two trees without the bench's noise.
const path = require('node:path');
const { fork } = require('node:child_process');

const ROOT = path.resolve(process.argv[2] ?? path.join(__dirname, '../..'));
const { WebhookSender } = require(path.join(ROOT, 'services/delivery/dist/sender.js'));
const SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.statusCode = 204; s.end(); }); }).listen(0, '127.0.0.1', function () { process.send(this.address().port); });`;

async function main() {
  const server = fork('-', [], { execArgv: ['--eval', SERVER] });
  const port = await new Promise((resolve) => server.once('message', resolve));
  const sender = new WebhookSender({
    allowPrivate: true,
    timeoutMs: 15_000,
    connectTimeoutMs: 10_000,
    connectionsPerOrigin: 20,
  });
  const body = JSON.stringify({ event_id: 'evt_1', data: { x: 'y'.repeat(200) } });
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'bench',
    'webhook-id': 'dlv_1',
    'webhook-signature': 'v1,abc',
    'x-reten-signature': 'sha256=abc',
  };
  const url = `http://127.0.0.1:${port}/e1`;
  const run = async (n) => {
    let i = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (i++ < n) {
          const r = await sender.send('wh_1', url, headers, body);
          if (!r.succeeded) throw new Error(JSON.stringify(r));
        }
      }),
    );
  };
  await run(5_000);
  const out = [];
  for (let k = 0; k < 3; k++) {
    const c0 = process.cpuUsage();
    await run(10_000);
    const c = process.cpuUsage(c0);
    out.push(((c.user + c.system) / 10_000).toFixed(1));
  }
  console.log(`${ROOT}: WebhookSender CPU µs per request ${out.join(', ')}`);
  await sender.close();
  server.kill();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
