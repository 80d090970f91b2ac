/**
 * The WebSocket client of the system bench, in its own process: one connection to the stream
 * service subscribed to every type (`?types=*`). It records each event frame by
 * `event_id:revision`. A connection the server closes is opened again with `last_event_id`
 * (what a real client does), and the close is counted. argv: a JSON job { url, apiKey }.
 */
const WebSocket = require('ws');
const { startTally } = require('./tally');

const job = JSON.parse(process.argv[2]);
const closes = [];
let last;
let ready = false;
const record = startTally(() => ({ closes }));

function connect() {
  const url = last ? `${job.url}&last_event_id=${encodeURIComponent(last)}` : job.url;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${job.apiKey}` } });
  ws.on('message', (data) => {
    const at = Date.now();
    const frame = JSON.parse(data.toString());
    if (typeof frame.event_id === 'string') {
      last = `${frame.event_id}:${frame.revision}`;
      record(last, at);
    } else if (frame.type === 'subscribed' && !ready) {
      ready = true;
      process.send({ reply: 'ready' });
    }
  });
  ws.on('error', () => undefined);
  ws.on('close', (code) => {
    closes.push(code);
    if (closes.length < 20) setTimeout(connect, 200);
  });
}
connect();
