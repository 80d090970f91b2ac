/**
 * The webhook receiver of the delivery bench, in its own process: a minimal node:http server
 * answering 204. Each body's `data.t` is the publish time (ms); it records receipt counts and
 * publish→receipt latency per run (`/run/<id>/…`) and reports them over IPC.
 */
const http = require('node:http');

const runs = new Map();

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const run = req.url.split('/')[2] ?? 'none';
    let stats = runs.get(run);
    if (!stats) runs.set(run, (stats = { count: 0, latencies: [] }));
    stats.count += 1;
    try {
      const t = JSON.parse(Buffer.concat(chunks).toString()).data.t;
      if (typeof t === 'number') stats.latencies.push(now - t);
    } catch {
      // not a bench body
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 10_000;

process.on('message', (msg) => {
  if (msg.cmd === 'stats') {
    const s = runs.get(msg.run) ?? { count: 0, latencies: [] };
    process.send({ run: msg.run, count: s.count, latencies: msg.withLatencies ? s.latencies : [] });
  }
});

server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
