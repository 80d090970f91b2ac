import type WebSocket from 'ws';
import { backoffDelayMs, RECONNECT_BACKOFF } from './backoff';
import type { BackoffOptions } from './backoff';
import { ApiError } from './exit-codes';
import { closeSocket, runConnection } from './stream-connection';
import type { ConnectionOutcome } from './stream-connection';
import type { ControlFrame, StreamEvent } from './stream-frames';

/** Upgrade refusals worth retrying: the tenant's or the replica's limits, a draining replica. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Closes after which resuming cannot work: the resume point is unknown or too old, or the key is gone. */
const FATAL_CLOSE: Record<number, string> = {
  4401: 'unauthorized',
  4404: 'not_found',
  4410: 'bad_request',
};

export interface ResumingStreamOptions {
  url: string;
  apiKey: string;
  types: readonly string[];
  /** Resume after this event (`evt_…` or `evt_…:<revision>`) on the first connection. */
  sinceId: string | undefined;
  handshakeTimeoutMs: number;
  onEvent: (event: StreamEvent, raw: string) => Promise<void>;
  /** Progress for a human: connected, subscribed, resumed, disconnected, retrying. */
  onStatus: (message: string) => void;
  backoff?: BackoffOptions;
}

/**
 * The tenant's live stream as `tail` and `listen` read it: reconnects by itself after any
 * disconnect, with bounded exponential backoff, and resumes after the last event it handled
 * (`last_event_id=<event_id>:<revision>`), so the stream's backfill fills the gap without a
 * duplicate. `run()` resolves after `stop()`, and rejects with `ApiError` when the stream
 * refuses in a way retrying cannot fix (bad key, missing scope, unknown resume point).
 */
export class ResumingStream {
  private stopped = false;
  private socket: WebSocket | undefined;
  private wake: (() => void) | undefined;
  private lastEventId: string | undefined;

  constructor(private readonly options: ResumingStreamOptions) {
    this.lastEventId = options.sinceId;
  }

  async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const outcome = await runConnection(
        {
          url: this.options.url,
          apiKey: this.options.apiKey,
          types: this.options.types,
          lastEventId: this.lastEventId,
          handshakeTimeoutMs: this.options.handshakeTimeoutMs,
          onEvent: this.options.onEvent,
          onHandled: (e) => (this.lastEventId = `${e.event_id}:${e.revision}`),
          onControl: (frame) => this.status(frame),
          onSilence: (ms) => this.options.onStatus(`no ping from the stream for ${ms} ms: cutting`),
          isStopped: () => this.stopped,
        },
        (ws) => (this.socket = ws),
      );
      if (this.stopped) return;
      this.failIfFatal(outcome);
      if (outcome.kind === 'closed' && outcome.healthy) attempt = 0;
      const delay = backoffDelayMs(attempt, this.options.backoff ?? RECONNECT_BACKOFF);
      attempt += 1;
      const from = this.lastEventId ? `after ${this.lastEventId}` : 'from now';
      this.options.onStatus(`${describe(outcome)}; reconnecting in ${delay} ms, ${from}`);
      await this.sleep(delay);
    }
  }

  /** Stops reading: closes the connection (or the wait before the next one); `run()` resolves. */
  stop(): void {
    this.stopped = true;
    if (this.socket) closeSocket(this.socket);
    this.wake?.();
  }

  private failIfFatal(outcome: ConnectionOutcome): void {
    if (outcome.kind === 'refused') {
      if (RETRYABLE_STATUS.has(outcome.status)) return;
      throw new ApiError(outcome.error.code, outcome.error.message, outcome.status);
    }
    const code = FATAL_CLOSE[outcome.code];
    if (code !== undefined) {
      const message = outcome.error?.message ?? (outcome.reason || `closed with ${outcome.code}`);
      throw new ApiError(
        outcome.error?.code ?? code,
        `${message} (close ${outcome.code})`,
        undefined,
      );
    }
  }

  private status(frame: ControlFrame): void {
    if (frame.type === 'welcome') {
      this.options.onStatus(`connected to ${this.options.url} (tenant ${String(frame.tenant_id)})`);
    } else if (frame.type === 'subscribed') {
      const types = Array.isArray(frame.types) ? frame.types.join(',') : '';
      this.options.onStatus(`subscribed to ${types}`);
    } else if (frame.type === 'resumed') {
      this.options.onStatus(
        `resumed after ${String(frame.last_event_id)} (${String(frame.backfilled)} backfilled)`,
      );
    } else if (frame.type === 'error') {
      const message = frame.error?.message;
      this.options.onStatus(`stream error: ${String(frame.error?.code)}: ${String(message)}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function describe(outcome: ConnectionOutcome): string {
  if (outcome.kind === 'refused') {
    return `stream refused the connection: ${outcome.error.code} (HTTP ${outcome.status}): ${outcome.error.message}`;
  }
  const why = outcome.socketError ?? outcome.reason;
  return `disconnected (${outcome.code}${why ? ` ${why}` : ''})`;
}
