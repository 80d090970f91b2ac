import WebSocket from 'ws';
import { ErrorEnvelopeSchema } from '@reten/contracts';
import { describeErrorFrame, parseFrame } from './stream-frames';
import type { ControlFrame, StreamEvent } from './stream-frames';

/** Events received but not yet handled, past which the socket stops reading (backpressure). */
const HIGH_WATER = 256;
const LOW_WATER = 64;
/** Until the `welcome` frame says otherwise: the stream's default ping period. */
const DEFAULT_PING_INTERVAL_MS = 30_000;
/**
 * How long a connection may stay silent (no frame, no ping) before it is cut: the server
 * pings every `pingIntervalMs`, so two missed pings and a half mean the peer is gone or stalled.
 */
export function silenceLimitMs(pingIntervalMs: number): number {
  return Math.round(2.5 * pingIntervalMs);
}

/** Bound on the close handshake when stopping. */
const CLOSE_TIMEOUT_MS = 2_000;
const MAX_REFUSAL_BODY_BYTES = 64 * 1024;

/** How one connection ended. */
export type ConnectionOutcome =
  | {
      kind: 'closed';
      code: number;
      reason: string;
      /** Got `welcome` and then at least one event, or stayed up a while: a healthy link. */
      healthy: boolean;
      /** The last `error` frame, sent by the server before a 44xx close. */
      error: { code: string; message: string } | undefined;
      /** The socket error behind a 1006 (refused, reset, handshake timeout). */
      socketError: string | undefined;
    }
  | {
      kind: 'refused';
      status: number;
      error: { code: string; message: string };
    };

export interface ConnectionOptions {
  url: string;
  apiKey: string;
  types: readonly string[];
  lastEventId: string | undefined;
  handshakeTimeoutMs: number;
  /** Called for each event in order, one at a time; the next waits for it. */
  onEvent: (event: StreamEvent, raw: string) => Promise<void>;
  /** Called after `onEvent` resolved: what to resume after. */
  onHandled: (event: StreamEvent) => void;
  onControl: (frame: ControlFrame) => void;
  /** Told when the server stays silent past `silenceLimitMs` of its ping period. */
  onSilence: (silentMs: number) => void;
  isStopped: () => boolean;
}

/**
 * One WebSocket connection to `/events/stream`. Resolves when it is closed and every event it
 * received has been handled (so the caller resumes after the last handled one); rejects
 * when `onEvent` failed. A server that stops talking (no ping, no frame for 2.5 times its
 * announced ping period) is cut, since a stalled peer never closes by itself.
 */
export function runConnection(
  options: ConnectionOptions,
  onSocket: (ws: WebSocket) => void,
): Promise<ConnectionOutcome> {
  return new Promise((resolve, reject) => {
    const url = new URL(options.url);
    url.searchParams.set('types', options.types.join(','));
    if (options.lastEventId) url.searchParams.set('last_event_id', options.lastEventId);
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${options.apiKey}` },
      handshakeTimeout: options.handshakeTimeoutMs,
    });
    onSocket(ws);
    const openedAt = Date.now();
    let settled = false;
    let welcomed = false;
    let handledAny = false;
    let lastError: { code: string; message: string } | undefined;
    let socketError: string | undefined;
    let failure: Error | undefined;
    let chain = Promise.resolve();
    let queued = 0;
    let paused = false;
    let silenceMs = silenceLimitMs(DEFAULT_PING_INTERVAL_MS);
    let watchdog: NodeJS.Timeout | undefined;

    const arm = () => {
      clearTimeout(watchdog);
      if (paused) return; // not reading on purpose: the server's pings wait in the socket
      watchdog = setTimeout(() => {
        options.onSilence(silenceMs);
        ws.terminate();
      }, silenceMs);
    };
    const settle = (outcome: ConnectionOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      resolve(outcome);
    };

    const enqueue = (event: StreamEvent, raw: string) => {
      queued += 1;
      if (queued >= HIGH_WATER && !paused) {
        paused = true;
        clearTimeout(watchdog);
        ws.pause();
      }
      chain = chain
        .then(async () => {
          if (failure !== undefined || options.isStopped()) return;
          await options.onEvent(event, raw);
          handledAny = true;
          options.onHandled(event);
        })
        .catch((err: unknown) => {
          failure = err instanceof Error ? err : new Error(String(err));
          ws.terminate();
        })
        .finally(() => {
          queued -= 1;
          if (paused && queued <= LOW_WATER) {
            paused = false;
            ws.resume();
            arm();
          }
        });
    };

    ws.on('open', arm);
    ws.on('ping', arm);
    ws.on('message', (data: WebSocket.RawData) => {
      arm();
      const raw = textOf(data);
      const frame = parseFrame(raw);
      if (!frame) return;
      if (frame.kind === 'event') {
        enqueue(frame.event, raw);
        return;
      }
      const control = frame.frame;
      if (control.type === 'welcome') {
        welcomed = true;
        if (typeof control.ping_interval_ms === 'number' && control.ping_interval_ms > 0) {
          silenceMs = silenceLimitMs(control.ping_interval_ms);
          arm();
        }
      } else if (control.type === 'error') {
        lastError = describeErrorFrame(control);
      }
      options.onControl(control);
    });
    ws.on('unexpected-response', (req, res) => {
      // the upgrade was refused with a plain HTTP answer and the error envelope
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        const envelope = ErrorEnvelopeSchema.safeParse(safeJson(text));
        settle({
          kind: 'refused',
          status: res.statusCode ?? 0,
          error: envelope.success
            ? { code: envelope.data.error.code, message: envelope.data.error.message }
            : { code: 'unexpected_response', message: text.slice(0, 200) || '(empty body)' },
        });
        req.destroy();
      };
      const timer = setTimeout(done, options.handshakeTimeoutMs);
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_REFUSAL_BODY_BYTES) chunks.push(chunk);
      });
      res.on('end', done);
      res.on('error', done);
    });
    ws.on('error', (err) => {
      socketError = (err as NodeJS.ErrnoException).code ?? err.message;
    });
    ws.on('close', (code, reason) => {
      clearTimeout(watchdog);
      // handle what was received before resuming after it
      void chain.then(() => {
        if (failure !== undefined) {
          settled = true;
          reject(failure);
          return;
        }
        settle({
          kind: 'closed',
          code,
          reason: reason.toString('utf8'),
          healthy: welcomed && (handledAny || Date.now() - openedAt > 10_000),
          error: lastError,
          socketError,
        });
      });
    });
  });
}

/** Closes a connection on purpose: a close frame, and a hard cut if the peer does not answer. */
export function closeSocket(ws: WebSocket): void {
  if (ws.readyState === WebSocket.CONNECTING) {
    ws.terminate();
    return;
  }
  ws.close(1000);
  setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS).unref();
}

function textOf(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
