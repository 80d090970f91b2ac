/**
 * The soak's webhook receiver, in its own process: a node:http server on 127.0.0.1 that answers
 * 500 to a random share of requests (argv[2], e.g. 0.05) and 204 to the rest, so the delivery
 * service keeps some deliveries in its retry tiers all the time. It keeps counters only (no
 * per-event state: its memory must not grow over a long run) and answers `{ cmd: 'stats' }`
 * with the counts since the previous `stats`.
 */
const http = require('node:http');

const failRatio = Number(process.argv[2] ?? 0.05);
let window = { requests: 0, failed: 0, unidentified: 0 };

const server = http.createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    window.requests += 1;
    if (typeof req.headers['x-reten-event-id'] !== 'string') window.unidentified += 1;
    if (Math.random() < failRatio) {
      window.failed += 1;
      res.writeHead(500).end();
    } else {
      res.writeHead(204).end();
    }
  });
});
server.keepAliveTimeout = 10_000;

process.on('message', (msg) => {
  if (msg.cmd === 'stats') {
    process.send({ reply: 'stats', ...window });
    window = { requests: 0, failed: 0, unidentified: 0 };
  } else if (msg.cmd === 'exit') {
    server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => process.send({ reply: 'ready', port: server.address().port }));
