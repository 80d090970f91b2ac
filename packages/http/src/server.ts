import { STATUS_CODES, createServer } from 'node:http';
import type { Server } from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RetenError } from '@reten/contracts';
import type { ErrorCode } from '@reten/contracts';

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes idle sockets. */
  close(deadlineMs: number): Promise<void>;
}

export interface ListenOptions {
  /** Longest time to receive the request headers (Node answers 408 past it). */
  headersTimeoutMs?: number;
  /** Longest time to receive a whole request, body included (408 past it). */
  requestTimeoutMs?: number;
}

/** Defaults of ListenOptions: bounded, so a client that stops sending cannot hold a socket. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Node's parser errors (`HPE_*` and its own codes) → the code the envelope answers with. */
function clientErrorCode(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'request_header_fields_too_large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT') {
    return 'request_timeout';
  }
  return 'bad_request';
}

const CLIENT_ERROR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  request_header_fields_too_large: 'The request headers are too large',
  request_timeout: 'The request did not arrive in time',
  bad_request: 'The request is not valid HTTP',
};

/**
 * What Node answers itself (bad request line or header, headers too large, request timeout)
 * answered in the error envelope instead of an empty body, then the connection is closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // a reset or a half-written answer: nothing sensible can be written any more
  if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const code = clientErrorCode(err);
  const body = JSON.stringify(
    new RetenError(code, CLIENT_ERROR_MESSAGES[code] ?? 'Bad request').toEnvelope(),
  );
  const status = new RetenError(code, '').status;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** Starts an HTTP server and resolves once it listens. */
export async function listen(
  handler: RequestListener,
  port: number,
  host: string,
  options: ListenOptions = {},
): Promise<RunningServer> {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = createServer({
    requestTimeout,
    headersTimeout: Math.min(
      options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
      requestTimeout,
    ),
    // how often Node checks those two timeouts (its default, 30 s, would add up to 30 s to them)
    connectionsCheckingInterval: Math.max(100, Math.min(1000, requestTimeout / 4)),
  });
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerClientError);
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
