/**
 * The bench's WebSocket clients, in their own process (forked with IPC by run.js).
 * Messages from the parent:
 *   { type: 'connect', url, headers, count }  → { type: 'connected', count, failed }
 *   { type: 'expect', events }                → { type: 'reached', atMs } once `events` events
 *                                               reached every client since the last reset
 *   { type: 'reset' }                          → { type: 'reset' } (counters and latencies)
 *   { type: 'report' }                         → { type: 'report', deliveries, latencies, closed }
 *   { type: 'close' }                          → exits
 * Every client counts events; one in SAMPLE_EVERY also parses them to measure latency from
 * `data.t` (epoch ms with sub-ms precision stamped by the publisher) to receipt.
 */
const WebSocket = require('ws');

const SAMPLE_EVERY = 20;
const CONNECT_BATCH = 50;
const EVENT_MARK = Buffer.from('"event_id"');

const sockets = [];
let deliveries = 0;
let latencies = [];
let closed = 0;
let expected = Infinity;

const now = () => performance.timeOrigin + performance.now();

function onMessage(sampled, data) {
  if (data.indexOf(EVENT_MARK) < 0) return; // a control frame
  deliveries += 1;
  if (sampled) {
    const t = JSON.parse(data.toString()).data?.t;
    if (typeof t === 'number') latencies.push(now() - t);
  }
  if (deliveries >= expected) {
    expected = Infinity;
    process.send({ type: 'reached', atMs: now() });
  }
}

function open(url, headers, sampled) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.on('open', () => {
      sockets.push(ws);
      resolve(true);
    });
    ws.on('message', (data) => onMessage(sampled, data));
    ws.on('close', () => {
      closed += 1;
    });
    ws.on('error', () => resolve(false));
  });
}

process.on('message', async (msg) => {
  if (msg.type === 'connect') {
    let failed = 0;
    for (let i = 0; i < msg.count; i += CONNECT_BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(msg.count, i + CONNECT_BATCH); j += 1) {
        batch.push(open(msg.url, msg.headers, j % SAMPLE_EVERY === 0));
      }
      failed += (await Promise.all(batch)).filter((ok) => !ok).length;
    }
    process.send({ type: 'connected', count: sockets.length, failed });
  } else if (msg.type === 'expect') {
    expected = msg.events * sockets.length;
    if (deliveries >= expected) {
      expected = Infinity;
      process.send({ type: 'reached', atMs: now() });
    }
  } else if (msg.type === 'reset') {
    deliveries = 0;
    latencies = [];
    process.send({ type: 'reset' });
  } else if (msg.type === 'report') {
    process.send({ type: 'report', deliveries, latencies, closed });
  } else if (msg.type === 'close') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
