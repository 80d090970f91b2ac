import type { WebSocket } from 'ws';
import type { RetenError } from '@reten/contracts';
import type { StreamEvent } from '@reten/store';
import { CLOSE_CODES } from './close-codes';
import type { StreamMetrics } from './metrics';
import type { ControlFrame } from './protocol';
import type { LiveEvent } from './redis-message';
import { SendQueue } from './send-queue';
import type { TypeFilter } from './type-filter';

export interface ClientLimits {
  maxSendBufferBytes: number;
  /** How long a closed client has, once the close frame left the process, to answer it. */
  closeGraceMs: number;
  /** A close frame that cannot leave the process for this long (no reading) is given up. */
  pingIntervalMs: number;
}

/** How often a closing connection checks whether its close frame left the process. */
const CLOSE_CHECK_MS = 50;

/**
 * One WebSocket connection. States: `idle` (no subscription yet), `resuming` (backfill from
 * PostgreSQL running, live events buffered), `live`, `closed`.
 * Invariant: everything queued for the client (socket buffer + resume buffer) stays under
 * `maxSendBufferBytes`, or the client is closed with 4008.
 */
export class StreamClient {
  state: 'idle' | 'resuming' | 'live' | 'closed' = 'idle';
  filter: TypeFilter | undefined;
  /** A filter change asked for during a resume, applied when it ends. */
  pendingFilter: TypeFilter | undefined;
  /**
   * Stream position of the newest event sent (or the position this client resumed from).
   * Positions are the relay's publish order, the order live events arrive in and the order a
   * backfill reads: anything at or before the cursor was sent already (or filtered out).
   */
  cursor = 0;
  /**
   * Set when live events may be missing from the resume buffer (Redis reconnected, or the
   * buffer overflowed and was dropped): one more backfill pass is needed.
   */
  resyncRequested = false;
  /** Whether the client answered the last ping. */
  alive = true;
  subscribedOnce = false;
  /** Set by a Redis resync: the next backfill pass waits for the channel's new SUBSCRIBE. */
  resubscribed: Promise<void> | undefined;
  /** How often the resume buffer overflowed during the current resume. */
  seamOverflows = 0;
  private seam: LiveEvent[] = [];
  private seamBytes = 0;
  private lastFlush: Promise<void> | undefined;
  private readonly queue: SendQueue;
  private resolveClosed: () => void = () => undefined;
  /** Resolves once the connection is closed (by either side). */
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(
    readonly ws: WebSocket,
    readonly tenantId: string,
    /** The bearer credential the stream was opened with, re-checked periodically. */
    readonly credential: string | undefined,
    private readonly limits: ClientLimits,
    private readonly metrics: StreamMetrics,
  ) {
    this.queue = new SendQueue(ws);
  }

  /**
   * An event from the tenant's Redis channel; true when it was sent now (the caller counts
   * messages and observes the fan-out latency once per event, not once per client).
   */
  deliverLive(event: LiveEvent): boolean {
    if (this.state === 'live') return this.sendLive(event);
    if (this.state === 'resuming') {
      if (this.filter && !this.filter.matches(event.eventType)) return false;
      if (event.position <= this.cursor) return false;
      if (this.seamBytes + event.json.length > this.limits.maxSendBufferBytes / 2) {
        // every buffered event is committed: drop them and let one more backfill pass send
        // them from PostgreSQL (memory stays bounded, the reader sets the pace)
        this.seam = [];
        this.seamBytes = 0;
        this.resyncRequested = true;
        this.seamOverflows += 1;
        return false;
      }
      this.seam.push(event);
      this.seamBytes += event.json.length;
    }
    return false;
  }

  private sendLive(event: LiveEvent): boolean {
    if (!this.filter?.matches(event.eventType)) return false;
    // sent by the backfill already, or a redelivered copy
    if (event.position <= this.cursor) return false;
    return this.sendEvent(event.json, event.position);
  }

  /**
   * Sends a backfilled event; false once the client is closed. Past half the send budget it
   * first waits until the socket took what was sent: a backfill never outruns its reader.
   */
  async sendBackfill(event: StreamEvent): Promise<boolean> {
    if (
      this.queuedBytes() + event.json.length > this.limits.maxSendBufferBytes / 2 &&
      this.lastFlush
    ) {
      await Promise.race([this.lastFlush, this.closed]);
    }
    const position = Number(event.position);
    let done: () => void = () => undefined;
    this.lastFlush = new Promise<void>((resolve) => (done = resolve));
    const sent = this.sendEvent(event.json, position, () => done());
    if (sent) {
      this.metrics.backfillEvents.inc();
      this.metrics.messagesOut.inc();
    }
    return sent;
  }

  private queuedBytes(): number {
    return this.ws.bufferedAmount + this.queue.bytes + this.seamBytes;
  }

  private sendEvent(data: Buffer | string, position: number, done?: () => void): boolean {
    if (this.state === 'closed') return false;
    if (this.queuedBytes() + data.length > this.limits.maxSendBufferBytes) {
      this.closeSlow();
      return false;
    }
    this.queue.push(data, done);
    if (position > this.cursor) this.cursor = position;
    return true;
  }

  /** Sends a control frame (never dropped for size: they are tiny and rare). */
  sendControl(frame: ControlFrame): void {
    if (this.state === 'closed') return;
    this.queue.push(JSON.stringify(frame));
  }

  /** Sends an error frame for a RetenError. */
  sendError(err: RetenError): void {
    this.sendControl({
      type: 'error',
      error: {
        code: err.code,
        message: err.message,
        ...(err.details && err.details.length > 0 ? { details: err.details } : {}),
      },
    });
  }

  /** Live events are buffered from now until `finishResume`. */
  beginResume(): void {
    this.seamOverflows = 0;
    if (this.state !== 'closed') this.state = 'resuming';
  }

  /** Sends the buffered live events the backfill did not already send, then goes live. */
  finishResume(): void {
    if (this.state !== 'resuming') return;
    this.state = 'live';
    const buffered = this.seam;
    this.seam = [];
    this.seamBytes = 0;
    for (const event of buffered) {
      if (this.state !== 'live') return;
      if (this.sendLive(event)) this.metrics.messagesOut.inc();
    }
    if (this.pendingFilter) {
      this.filter = this.pendingFilter;
      this.pendingFilter = undefined;
    }
  }

  /**
   * Closes with a code and reason. What is queued goes first, unless `dropQueued` (a slow
   * consumer: its close frame goes ahead of what it has not been sent, so it can tell this
   * close from a network drop). The socket is destroyed when the client has not answered
   * `closeGraceMs` after the close frame left the process, or when the frame could not leave
   * it for `pingIntervalMs` (a peer that reads nothing at all, as an unanswered ping).
   */
  close(code: number, reason: string, dropQueued = false): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.seam = [];
    this.seamBytes = 0;
    this.resolveClosed();
    if (dropQueued) this.queue.drop();
    else this.queue.flush();
    this.ws.close(code, reason);
    const started = Date.now();
    let sentAt: number | undefined;
    const timer = setInterval(
      () => {
        const now = Date.now();
        if (sentAt === undefined && this.ws.bufferedAmount === 0) sentAt = now;
        const graceOver = sentAt !== undefined && now - sentAt >= this.limits.closeGraceMs;
        const stuck =
          now - started >= Math.max(this.limits.closeGraceMs, this.limits.pingIntervalMs);
        if (graceOver || stuck) {
          clearInterval(timer);
          this.ws.terminate();
        }
      },
      Math.min(CLOSE_CHECK_MS, Math.max(1, this.limits.closeGraceMs)),
    );
    timer.unref();
    this.ws.once('close', () => clearInterval(timer));
  }

  /** Closes with 4008 (the close frame ahead of the unsent events): the client cannot keep up. */
  closeSlow(): void {
    this.metrics.slowClientsDropped.inc();
    this.close(
      CLOSE_CODES.slowConsumer,
      'slow consumer: send buffer full, resume with last_event_id',
      true,
    );
  }

  /** Marks the connection closed by the peer. */
  markClosed(): void {
    this.state = 'closed';
    this.seam = [];
    this.seamBytes = 0;
    this.queue.drop();
    this.resolveClosed();
  }
}
