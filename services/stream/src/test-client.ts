import WebSocket from 'ws';
import { rawText } from './raw-text';
import { eventually } from '@reten/testing';

export interface Frame {
  [key: string]: unknown;
}

/** A real WebSocket client that records every frame and how the connection ended. */
export class TestClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = '';
  unexpected: { status: number; body: string } | undefined;
  readonly ws: WebSocket;
  private readonly opened: Promise<void>;

  constructor(
    url: string,
    options: { token?: string; headers?: Record<string, string>; autoPong?: boolean } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    this.ws = new WebSocket(url, { headers, autoPong: options.autoPong ?? true });
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(rawText(data)) as Frame);
    });
    this.ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          this.unexpected = { status: res.statusCode ?? 0, body };
          reject(new Error(`upgrade refused with ${res.statusCode}: ${body}`));
        });
      });
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => undefined);
  }

  /** Resolves once open; rejects with the refusal when the upgrade was refused. */
  open(): Promise<void> {
    return this.opened;
  }

  /** Events received (frames with an event_id), in order. */
  events(): Frame[] {
    return this.frames.filter((f) => typeof f.event_id === 'string');
  }

  /** `event_id` of every event received, in order. */
  eventIds(): string[] {
    return this.events().map((f) => String(f.event_id));
  }

  /** Control frames of one type. */
  control(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits for a control frame of `type` (the `n`th, 1-based). */
  async waitFor(type: string, n = 1, timeoutMs = 10_000): Promise<Frame> {
    return eventually(
      () => {
        const f = this.control(type)[n - 1];
        if (!f)
          throw new Error(`no ${type} frame #${n}; got ${JSON.stringify(this.frames.slice(-5))}`);
        return f;
      },
      { timeoutMs },
    );
  }

  /** Waits until the server closed the connection; returns the code. */
  async waitClosed(timeoutMs = 10_000): Promise<number> {
    return eventually(
      () => {
        if (this.closeCode === undefined) throw new Error('still open');
        return this.closeCode;
      },
      { timeoutMs },
    );
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    }
  }
}
