import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { eventually } from '@reten/testing';
import { ResumingStream } from './resuming-stream';

/**
 * A stand-in stream server on a real socket, for faults the real one does not produce on
 * demand: a peer that stops answering without closing.
 */
async function stallingServer(): Promise<{ url: string; requests: URL[]; close(): Promise<void> }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const requests: URL[] = [];
  const sockets: WebSocket[] = [];
  server.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    sockets.push(ws);
    requests.push(new URL(req.url ?? '/', 'ws://127.0.0.1'));
    const n = requests.length;
    ws.send(JSON.stringify({ type: 'welcome', tenant_id: 't', ping_interval_ms: 100 }));
    ws.send(JSON.stringify({ type: 'subscribed', types: ['*'] }));
    ws.send(
      JSON.stringify({
        event_id: `evt_${n}`,
        event_type: 'a.b',
        revision: 1,
        timestamp: '',
        data: {},
      }),
    );
    // then silence: no ping, no frame, no close; the client must notice by itself
    ws.pause();
  });
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/events/stream`,
    requests,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

it('cuts a connection that stays silent past 2.5 ping periods and resumes after the last event', async () => {
  const server = await stallingServer();
  const events: string[] = [];
  const notes: string[] = [];
  const stream = new ResumingStream({
    url: server.url,
    apiKey: 'k',
    types: ['*'],
    sinceId: undefined,
    handshakeTimeoutMs: 2_000,
    backoff: { initialMs: 10, maxMs: 50 },
    onEvent: (event) => {
      events.push(event.event_id);
      return Promise.resolve();
    },
    onStatus: (message) => notes.push(message),
  });
  const done = stream.run();
  try {
    await eventually(() => expect(server.requests.length).toBeGreaterThanOrEqual(2));
    expect(server.requests[0]!.searchParams.get('last_event_id')).toBeNull();
    expect(server.requests[1]!.searchParams.get('last_event_id')).toBe('evt_1:1');
    expect(events.slice(0, 2)).toEqual(['evt_1', 'evt_2']);
    expect(notes).toContain('no ping from the stream for 250 ms: cutting');
  } finally {
    stream.stop();
    await done;
    await server.close();
  }
});

it('stops reading while 256 events wait for a slow handler, then reads on: all of them, in order, on one connection', async () => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  let connections = 0;
  server.on('connection', (ws: WebSocket) => {
    connections += 1;
    ws.send(JSON.stringify({ type: 'welcome', tenant_id: 't', ping_interval_ms: 30_000 }));
    for (let i = 0; i < 600; i += 1) {
      ws.send(JSON.stringify({ event_id: `evt_${i}`, event_type: 'a.b', revision: 1, data: {} }));
    }
  });
  const { port } = server.address() as { port: number };
  const events: string[] = [];
  const stream = new ResumingStream({
    url: `ws://127.0.0.1:${port}/events/stream`,
    apiKey: 'k',
    types: ['*'],
    sinceId: undefined,
    handshakeTimeoutMs: 2_000,
    onEvent: async (event) => {
      await new Promise((resolve) => setImmediate(resolve));
      events.push(event.event_id);
    },
    onStatus: () => undefined,
  });
  const done = stream.run();
  try {
    await eventually(() => expect(events).toHaveLength(600), { timeoutMs: 20_000 });
    expect(events).toEqual(Array.from({ length: 600 }, (_, i) => `evt_${i}`));
    expect(connections).toBe(1);
  } finally {
    stream.stop();
    await done;
    for (const ws of server.clients) ws.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});
