import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** One request as the receiver got it: raw body bytes as text, lower-case headers. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  rawBody: string;
  /** `Date.now()` when the body was complete. */
  receivedAt: number;
  /**
   * Requests to the same path open when this one arrived, itself included: received (body
   * complete) and not yet answered or reset.
   */
  openOnArrival: number;
}

/** How the receiver answers a request. */
export interface ReceiverAnswer {
  /** Status code (default 204). */
  status?: number;
  /** Answer after this many ms. */
  delayMs?: number;
  /** Never answer (the socket stays open until the receiver closes). */
  hang?: boolean;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
  /** Answer 302 with this Location. */
  redirectTo?: string;
  /** `Retry-After` header value. */
  retryAfter?: string;
  body?: string;
  headers?: Record<string, string>;
}

export type AnswerFn = (req: ReceivedRequest, index: number) => ReceiverAnswer;

/**
 * A real local HTTP server for webhook tests: records every request (raw body and headers)
 * and answers as the test says, per request if needed: status, delay, hang, reset, redirect,
 * Retry-After.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private answer: AnswerFn = () => ({});
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Requests received and not answered or reset yet, by path. */
  private readonly open = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const holder: { r?: WebhookReceiver } = {};
    const server = createServer((req, res) => holder.r?.onRequest(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('receiver has no address');
    const receiver = new WebhookReceiver(server, address.port);
    holder.r = receiver;
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    return receiver;
  }

  /** `http://127.0.0.1:<port><path>`. */
  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Sets how the following requests are answered (a constant or a function of the request). */
  respond(answer: ReceiverAnswer | AnswerFn): void {
    this.answer = typeof answer === 'function' ? answer : () => answer;
  }

  /** Recorded requests whose path is `path`. */
  requestsTo(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /**
   * The most requests to `path` that were open at once: received (body complete) and not yet
   * answered or reset (a hanging request stays open).
   */
  maxOpen(path: string): number {
    return this.requestsTo(path).reduce((max, r) => Math.max(max, r.openOnArrival), 0);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      const path = req.url ?? '';
      const open = (this.open.get(path) ?? 0) + 1;
      this.open.set(path, open);
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path,
        headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        openOnArrival: open,
      };
      const index = this.requests.length;
      this.requests.push(received);
      const answer = this.answer(received, index);
      if (answer.hang) return;
      const send = () => {
        // over from here: the sender cannot see the answer or the reset before this point
        this.open.set(path, (this.open.get(path) ?? 1) - 1);
        if (answer.reset) {
          req.socket.destroy();
          return;
        }
        const head: Record<string, string> = { ...answer.headers };
        if (answer.retryAfter !== undefined) head['retry-after'] = answer.retryAfter;
        if (answer.redirectTo !== undefined) head.location = answer.redirectTo;
        res.writeHead(answer.redirectTo !== undefined ? 302 : (answer.status ?? 204), head);
        res.end(answer.body);
      };
      if (answer.delayMs) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          send();
        }, answer.delayMs);
        this.timers.add(timer);
      } else send();
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a {@link WebhookReceiver} on a random local port. */
export function webhookReceiver(): Promise<WebhookReceiver> {
  return WebhookReceiver.start();
}
