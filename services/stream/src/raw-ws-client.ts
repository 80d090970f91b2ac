import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** A frame as the server sent it (server frames are never masked). */
export interface RawFrame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client at the byte level, for tests that need control a library does not give:
 * reading can be paused and resumed on the socket itself, and every frame is seen, the close
 * frame included, in the order the bytes arrived.
 */
export class RawWsClient {
  readonly frames: RawFrame[] = [];
  /** Whether the TCP connection ended (FIN or reset). */
  ended = false;
  private buffer = Buffer.alloc(0);
  private upgraded = false;
  private settleUpgrade: (ok: boolean) => void = () => undefined;
  private readonly upgrade = new Promise<boolean>((resolve) => {
    this.settleUpgrade = resolve;
  });

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.ended = true;
      this.settleUpgrade(false);
    });
    socket.on('error', () => undefined);
  }

  /** Opens `ws://host:port/path?query` with `Authorization: Bearer <token>`; resolves once upgraded. */
  static async connect(url: string, token: string): Promise<RawWsClient> {
    const u = new URL(url);
    const socket = net.connect(Number(u.port), u.hostname);
    const client = new RawWsClient(socket);
    socket.write(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Authorization: Bearer ${token}\r\n\r\n`,
    );
    let timer: NodeJS.Timeout | undefined;
    const upgraded = await Promise.race([
      client.upgrade,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 10_000);
      }),
    ]);
    clearTimeout(timer);
    if (!upgraded) {
      socket.destroy();
      throw new Error('the upgrade was not accepted');
    }
    return client;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.upgraded) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!this.buffer.subarray(0, 12).toString().includes('101')) {
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      this.settleUpgrade(true);
      this.buffer = this.buffer.subarray(end + 4);
    }
    for (;;) {
      const frame = this.nextFrame();
      if (!frame) return;
      this.frames.push(frame);
    }
  }

  private nextFrame(): RawFrame | undefined {
    const b = this.buffer;
    if (b.length < 2) return undefined;
    const opcode = (b[0] ?? 0) & 0x0f;
    let length = (b[1] ?? 0) & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) return undefined;
    const payload = b.subarray(offset, offset + length);
    this.buffer = b.subarray(offset + length);
    return { opcode, payload };
  }

  /** The close frame's code, when one arrived. */
  closeCode(): number | undefined {
    const close = this.frames.find((f) => f.opcode === 0x8);
    return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
  }

  /** Text frames received, parsed as JSON. */
  texts(): unknown[] {
    return this.frames
      .filter((f) => f.opcode === 0x1)
      .map((f) => JSON.parse(f.payload.toString()) as unknown);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
