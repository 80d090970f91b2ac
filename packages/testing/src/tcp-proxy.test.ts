import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { eventually } from './eventually';
import { TcpProxy } from './tcp-proxy';

interface EchoServer {
  server: Server;
  port: number;
  received: () => string;
  connections: () => number;
  closedConnections: () => number;
}

/** A server that echoes what it gets and records it, plus how many connections it saw. */
async function echoServer(): Promise<EchoServer> {
  let received = '';
  let connections = 0;
  let closedConnections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.on('close', () => (closedConnections += 1));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      socket.write(chunk);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    server,
    port: address.port,
    received: () => received,
    connections: () => connections,
    closedConnections: () => closedConnections,
  };
}

interface Client {
  socket: Socket;
  echoed: () => string;
  closed: () => boolean;
}

function client(port: number): Client {
  const socket = connect({ host: '127.0.0.1', port });
  let echoed = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, echoed: () => echoed, closed: () => closed };
}

/** A negative check needs some time to pass: this is the window, not a synchronisation. */
const QUIET_MS = 300;
const quiet = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

describe('TcpProxy', () => {
  let echo: EchoServer;
  let proxy: TcpProxy;
  const clients: Client[] = [];

  beforeEach(async () => {
    echo = await echoServer();
    proxy = await TcpProxy.start('127.0.0.1', echo.port);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await proxy.close();
    echo.server.close();
  });

  it('stall stops forwarding both ways without closing, resume delivers what was held back', async () => {
    const c = client(proxy.port);
    clients.push(c);
    c.socket.write('a');
    await eventually(() => expect(c.echoed()).toBe('a'));

    proxy.stall();
    expect(proxy.isStalled).toBe(true);
    c.socket.write('b');
    await quiet();
    expect(echo.received()).toBe('a');
    expect(c.echoed()).toBe('a');
    expect(c.closed()).toBe(false);

    proxy.resume();
    await eventually(() => expect(c.echoed()).toBe('ab'));
    expect(c.closed()).toBe(false);
  });

  it('holds connections opened during a stall and forwards them on resume', async () => {
    proxy.stall();
    const c = client(proxy.port);
    clients.push(c);
    await new Promise<void>((resolve) => c.socket.once('connect', () => resolve()));
    c.socket.write('x');
    await quiet();
    expect(echo.connections()).toBe(0);
    expect(c.closed()).toBe(false);

    proxy.resume();
    await eventually(() => expect(c.echoed()).toBe('x'));
    expect(echo.connections()).toBe(1);
  });

  it('a side that closes during a stall is only seen by the other side after resume', async () => {
    const c = client(proxy.port);
    clients.push(c);
    c.socket.write('a');
    await eventually(() => expect(c.echoed()).toBe('a'));
    expect(echo.closedConnections()).toBe(0);

    proxy.stall();
    c.socket.destroy();
    await quiet();
    expect(echo.closedConnections()).toBe(0);

    proxy.resume();
    await eventually(() => expect(echo.closedConnections()).toBe(1));
  });

  it('cut drops connections and refuses new ones until restore', async () => {
    const c = client(proxy.port);
    clients.push(c);
    c.socket.write('a');
    await eventually(() => expect(c.echoed()).toBe('a'));
    proxy.cut();
    await eventually(() => expect(c.closed()).toBe(true));
    const refused = client(proxy.port);
    clients.push(refused);
    await eventually(() => expect(refused.closed()).toBe(true));
    proxy.restore();
    const again = client(proxy.port);
    clients.push(again);
    again.socket.write('z');
    await eventually(() => expect(again.echoed()).toBe('z'));
  });

  it('cutAfterClientSends forwards the matching bytes, then cuts', async () => {
    const c = client(proxy.port);
    clients.push(c);
    c.socket.write('a');
    await eventually(() => expect(c.echoed()).toBe('a'));
    const cut = proxy.cutAfterClientSends('COMMIT');
    c.socket.write('COMMIT');
    await cut;
    await eventually(() => expect(echo.received()).toBe('aCOMMIT'));
    await eventually(() => expect(c.closed()).toBe(true));
  });
});
