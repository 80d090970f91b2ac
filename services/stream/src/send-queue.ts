import type { WebSocket } from 'ws';

/** Bytes handed to the socket at a time; the rest waits here, where a close can skip it. */
const SOCKET_WINDOW_BYTES = 64 * 1024;

interface QueuedFrame {
  data: Buffer | string;
  done: (() => void) | undefined;
}

/**
 * A client's outgoing text frames. Only about `SOCKET_WINDOW_BYTES` is handed to the socket at
 * once (the next frames go when those left the process), so what a slow reader has not been
 * sent stays here, and a close frame can go ahead of it instead of queuing behind it.
 */
export class SendQueue {
  private frames: QueuedFrame[] = [];
  /** Bytes waiting here (not yet handed to the socket). */
  bytes = 0;

  constructor(private readonly ws: WebSocket) {}

  /** Queues a frame; `done` runs once it left the process (or was dropped). */
  push(data: Buffer | string, done?: () => void): void {
    this.frames.push({ data, done });
    this.bytes += data.length;
    this.pump();
  }

  private pump(): void {
    while (this.frames.length > 0 && this.ws.bufferedAmount < SOCKET_WINDOW_BYTES) {
      this.handOver(this.frames.shift());
    }
  }

  private handOver(frame: QueuedFrame | undefined): void {
    if (!frame) return;
    this.bytes -= frame.data.length;
    this.ws.send(frame.data, { binary: false }, () => {
      frame.done?.();
      this.pump();
    });
  }

  /** Hands every queued frame to the socket now (a close that keeps them before its frame). */
  flush(): void {
    while (this.frames.length > 0) this.handOver(this.frames.shift());
  }

  /** Forgets the frames not handed over yet (a close whose frame goes first). */
  drop(): void {
    const dropped = this.frames;
    this.frames = [];
    this.bytes = 0;
    for (const frame of dropped) frame.done?.();
  }
}
