import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { RetenError } from '@reten/contracts';

/** Refuses an upgrade with a plain HTTP response carrying the error envelope, then closes. */
export function refuseUpgrade(socket: Duplex, err: RetenError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(err.toEnvelope());
  const headers = [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(err.status === 401 ? ['WWW-Authenticate: Bearer'] : []),
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
