import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes idle sockets. */
  close(deadlineMs: number): Promise<void>;
}

/** Starts an HTTP server and resolves once it listens. */
export async function listen(
  handler: RequestListener,
  port: number,
  host: string,
): Promise<RunningServer> {
  const server = createServer();
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  // once closing, every answer says `Connection: close`, so clients stop reusing the socket;
  // this listener runs before the handler, so no header has been sent yet
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) {
      res.setHeader('connection', 'close');
      return;
    }
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  server.on('request', handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: actualPort,
    close: (deadlineMs) =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
        const timer = setTimeout(() => {
          server.closeAllConnections();
        }, deadlineMs);
        // a connection busy now turns idle when its response is done: close it then, rather
        // than keep it (and the shutdown) open until the deadline
        const sweeper = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(timer);
          clearInterval(sweeper);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
