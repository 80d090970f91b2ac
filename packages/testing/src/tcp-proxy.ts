import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

/** One client connection and its upstream (absent while a connection is held by a stall). */
interface Link {
  client: Socket;
  upstream?: Socket;
  /** A side closed while the link was stalled: the other side learns it on `resume()`. */
  closedDuringStall: boolean;
  /** The connection was taken while stalled and not yet forwarded. */
  held: boolean;
}

/** How long the server's side of a triggering link waits for the server's answer at most. */
const ANSWER_BOUND_MS = 5_000;

/** Cuts every connection once the client has sent bytes containing `pattern`. */
interface CutTrigger {
  pattern: Buffer;
  fired: () => void;
}

/**
 * A TCP proxy a fault test controls. The shared servers themselves are never stopped.
 * - `cut()` drops every connection and refuses new ones (as a dead network would, with resets);
 *   `restore()` lets connections through again.
 * - `stall()` stops forwarding in both directions without closing anything (as a dead peer or a
 *   dropped route does: no reset, no FIN, bytes just stop arriving). New connections are accepted
 *   and held, not forwarded. A side that closes during the stall is only seen by the other side
 *   after `resume()`, which forwards what was held back and lets traffic through again.
 * - `cutAfterClientSends(pattern)` cuts every connection right after forwarding the client bytes
 *   that contain `pattern` (for example a database's COMMIT), to make an outcome unknown.
 */
export class TcpProxy {
  private links = new Set<Link>();
  private open = true;
  private stalled = false;
  private trigger: CutTrigger | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {};
    const server = createServer((client) => {
      if (holder.proxy) holder.proxy.accept(client);
      else client.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('proxy has no address');
    holder.proxy = new TcpProxy(server, address.port, targetHost, targetPort);
    return holder.proxy;
  }

  /** Whether the proxy is stalled now. */
  get isStalled(): boolean {
    return this.stalled;
  }

  /** Connections open through the proxy (held ones included). */
  get connectionCount(): number {
    return this.links.size;
  }

  private accept(client: Socket): void {
    if (!this.open) {
      client.destroy();
      return;
    }
    client.pause();
    const link: Link = { client, closedDuringStall: false, held: this.stalled };
    this.links.add(link);
    client.on('error', () => this.closeSide(link));
    client.on('close', () => this.closeSide(link));
    if (!link.held) this.forward(link);
  }

  private forward(link: Link): void {
    link.held = false;
    const upstream = connect({ host: this.targetHost, port: this.targetPort });
    link.upstream = upstream;
    upstream.on('error', () => this.closeSide(link));
    upstream.on('close', () => this.closeSide(link));
    this.flow(link);
  }

  private flow(link: Link): void {
    const { client, upstream } = link;
    if (!upstream) return;
    client.on('data', (chunk: Buffer) => this.checkTrigger(chunk, link));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private checkTrigger(chunk: Buffer, link: Link): void {
    const trigger = this.trigger;
    if (!trigger || !chunk.includes(trigger.pattern)) return;
    this.trigger = undefined;
    // The server must get the matching bytes and act on them before the connection goes: its
    // side of this link stays open, unheard by the client, until it answers (so it has run the
    // statement: PostgreSQL answers a statement after committing it) or a bound passes. Closing
    // it at once could discard bytes not yet written, or reset the server's side before it
    // read them. The pipe writes the chunk after this listener: the answer is awaited from now.
    const upstream = link.upstream;
    if (upstream) {
      upstream.unpipe(link.client);
      delete link.upstream;
      const bound = setTimeout(() => upstream.destroy(), ANSWER_BOUND_MS);
      bound.unref();
      upstream.once('data', () => {
        clearTimeout(bound);
        upstream.destroy();
      });
      upstream.once('close', () => clearTimeout(bound));
    }
    setImmediate(() => {
      this.cut();
      trigger.fired();
    });
  }

  private closeSide(link: Link): void {
    if (this.stalled) {
      link.closedDuringStall = true;
      return;
    }
    this.destroy(link);
  }

  private destroy(link: Link): void {
    link.client.destroy();
    link.upstream?.destroy();
    this.links.delete(link);
  }

  /** Rewrites a URL's host and port to go through this proxy. */
  proxiedUrl(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Drops every open connection (held ones too) and refuses new ones. */
  cut(): void {
    this.open = false;
    this.stalled = false;
    for (const link of [...this.links]) this.destroy(link);
  }

  /** Lets connections through again after `cut()`. */
  restore(): void {
    this.open = true;
  }

  /** Stops forwarding in both directions without closing any connection. */
  stall(): void {
    if (this.stalled) return;
    this.stalled = true;
    for (const { client, upstream } of this.links) {
      if (!upstream) continue;
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Ends a stall: forwards what was held back, then closes what was closed meanwhile. */
  resume(): void {
    if (!this.stalled) return;
    this.stalled = false;
    for (const link of [...this.links]) {
      if (link.closedDuringStall) {
        this.destroy(link);
      } else if (link.held) {
        this.forward(link);
      } else if (link.upstream) {
        link.client.pipe(link.upstream);
        link.upstream.pipe(link.client);
      }
    }
  }

  /**
   * Cuts every connection (as `cut()`) right after forwarding the first client chunk that
   * contains `pattern`. Resolves once the cut happened; `restore()` reopens the proxy.
   */
  cutAfterClientSends(pattern: string | Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      this.trigger = { pattern: Buffer.from(pattern), fired: resolve };
    });
  }

  async close(): Promise<void> {
    this.trigger = undefined;
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
