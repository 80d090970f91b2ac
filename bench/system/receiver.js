/**
 * The webhook receiver of the system bench, in its own process: a minimal node:http server on
 * 127.0.0.1 answering 204 to every request. It records each delivery by its `X-Reten-Event-Id`
 * header (the body is read but not parsed) and tells the bench its port over IPC.
 */
const http = require('node:http');
const { startTally } = require('./tally');

let unidentified = 0;
const record = startTally(() => ({ unidentified }));

const server = http.createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    const id = req.headers['x-reten-event-id'];
    if (typeof id === 'string') record(id, Date.now());
    else unidentified += 1;
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => process.send({ reply: 'ready', port: server.address().port }));
