/**
 * The soak's WebSocket clients, all in one process. argv: a JSON job { url, apiKey, filters }
 * where `filters` holds one `types` value per client (e.g. `*` or `order.paid`). A connection
 * the server closes is opened again with `last_event_id` after 1 s, as a real client does, and
 * the close is counted by code. Counters only (memory stays flat); `{ cmd: 'stats' }` answers
 * the frames and closes since the previous `stats` and how many clients are open now.
 */
const WebSocket = require('ws');

const job = JSON.parse(process.argv[2]);
let window = { frames: 0, closes: {} };
let subscribed = 0;
let open = 0;

function connect(types, last) {
  let lastSeen = last;
  let counted = false;
  const query = `types=${encodeURIComponent(types)}${last ? `&last_event_id=${encodeURIComponent(last)}` : ''}`;
  const ws = new WebSocket(`${job.url}?${query}`, {
    headers: { authorization: `Bearer ${job.apiKey}` },
  });
  ws.on('open', () => {
    open += 1;
    counted = true;
  });
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (typeof frame.event_id === 'string') {
      window.frames += 1;
      lastSeen = `${frame.event_id}:${frame.revision}`;
    } else if (frame.type === 'subscribed' && last === undefined) {
      subscribed += 1;
      if (subscribed === job.filters.length) process.send({ reply: 'ready' });
    }
  });
  ws.on('error', () => undefined);
  ws.on('close', (code) => {
    if (counted) open -= 1;
    window.closes[code] = (window.closes[code] ?? 0) + 1;
    if (!stopping) setTimeout(() => connect(types, lastSeen), 1000);
  });
  sockets.add(ws);
  ws.once('close', () => sockets.delete(ws));
}

const sockets = new Set();
let stopping = false;
for (const types of job.filters) connect(types, undefined);

process.on('message', (msg) => {
  if (msg.cmd === 'stats') {
    process.send({ reply: 'stats', ...window, open });
    window = { frames: 0, closes: {} };
  } else if (msg.cmd === 'exit') {
    stopping = true;
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
