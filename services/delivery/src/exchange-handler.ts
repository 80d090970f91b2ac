import type { Dispatcher } from 'undici';

const EXCERPT_BYTES = 1024;

/** What an HTTP exchange ended with: a response (its excerpt read), or an error. */
export type Exchange =
  | {
      ok: true;
      statusCode: number;
      excerpt: string;
      retryAfter: string | undefined;
    }
  | { ok: false; statusCode: number | null; err: unknown };

/** The value of a raw header by its lower-case name (undici hands them as Buffer pairs). */
function rawHeader(raw: Buffer[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as Buffer;
    if (key.length === name.length && key.toString('latin1').toLowerCase() === name) {
      return (raw[i + 1] as Buffer).toString('latin1');
    }
  }
  return undefined;
}

/**
 * An undici dispatch handler for one webhook request: keeps the status, `Retry-After` and the
 * first KB of the body, and settles once. Compared with `pool.request()` it builds no response
 * stream, no async resource and no parsed header object per request, and aborts without an
 * `AbortSignal`: `abort(reason)` works before the request is dispatched too (it aborts then).
 */
export class ExchangeHandler implements Dispatcher.DispatchHandler {
  private statusCode: number | null = null;
  private retryAfter: string | undefined;
  /** No body to keep (204 or `content-length: 0`): data is not collected. */
  private empty = false;
  private chunks: Buffer[] = [];
  private size = 0;
  private abortRequest: ((reason: Error) => void) | null = null;
  private abortReason: Error | null = null;
  private settled = false;

  constructor(private readonly done: (exchange: Exchange) => void) {}

  /** Ends the exchange with `reason` (the attempt's timeout); no-op once it has ended. */
  abort(reason: Error): void {
    if (this.settled) return;
    if (this.abortRequest) this.abortRequest(reason);
    else this.abortReason = reason;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.abortReason) abort(this.abortReason);
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // informational: the response follows
    this.statusCode = statusCode;
    this.retryAfter = rawHeader(rawHeaders, 'retry-after');
    this.empty = statusCode === 204 || rawHeader(rawHeaders, 'content-length') === '0';
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled || this.empty) return true;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= EXCERPT_BYTES) {
      // enough kept: the rest of the body is not read (as a stream left early, the request ends)
      this.finish();
      this.abortRequest?.(new Error('response excerpt complete'));
    }
    return true;
  }

  onComplete(): void {
    this.finish();
  }

  onError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.done({ ok: false, statusCode: this.statusCode, err });
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    const excerpt =
      this.size === 0
        ? ''
        : (this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks))
            .subarray(0, EXCERPT_BYTES)
            .toString('utf8')
            // PostgreSQL text cannot hold U+0000; a cut multi-byte character becomes U+FFFD
            .replaceAll('\u0000', '');
    this.done({
      ok: true,
      statusCode: this.statusCode ?? 0,
      excerpt,
      retryAfter: this.retryAfter,
    });
  }
}
