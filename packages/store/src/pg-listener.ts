import type { Socket } from 'node:net';
import { Client } from 'pg';
import type { ClientBase, ClientConfig, Notification, Pool, PoolClient } from 'pg';
import type { Logger } from '@reten/observability';

export interface PgListenerOptions {
  /** Where the dedicated connection comes from: its own client, or one held out of a pool. */
  connection: { clientConfig: ClientConfig } | { pool: Pool };
  /** One callback per channel (see notify-channels.ts), called with the payload ('' if none). */
  channels: Record<string, (payload: string) => void>;
  /**
   * Called after every LISTEN, the first included: notifications sent while no connection
   * listened are lost, so the caller reloads (or stops trusting) what they would have told it.
   */
  onListening?: () => void;
  /** Called when the LISTEN connection is lost (not on `stop`). */
  onLost?: (err: Error) => void;
  /** First pause before reconnecting; doubled after each failed try. @defaultValue 1000 */
  reconnectDelayMs?: number;
  /** Longest pause between reconnect tries. @defaultValue 30000 */
  maxReconnectDelayMs?: number;
  /**
   * How often an idle connection is probed with `SELECT 1`: a peer that stops answering
   * without closing (a stall) sends no error, and LISTEN alone would wait forever.
   * @defaultValue 10000
   */
  keepaliveIntervalMs?: number;
  /** Bound on connecting, on each LISTEN and on each probe. @defaultValue 5000 */
  timeoutMs?: number;
  /** Names this listener in logs. */
  name: string;
  log: Logger;
}

interface Connection {
  /** A `PoolClient` when `fromPool`, else a `Client` of its own. */
  client: ClientBase;
  fromPool: boolean;
  closed: boolean;
}

class ListenTimeoutError extends Error {}

/** Rejects with a ListenTimeoutError when `promise` takes longer than `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ListenTimeoutError(`${what} timed out`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * One dedicated PostgreSQL connection that LISTENs on a set of channels: it reconnects with
 * backoff after any loss, LISTENs again on every new connection, and probes an idle
 * connection so a stalled one is noticed. `ready` is true only while it listens.
 */
export class PgListener {
  private conn: Connection | undefined;
  private stopped = true;
  private down = false;
  private delayMs: number;
  private retry: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private probing = false;
  private attempt: Promise<void> | undefined;

  constructor(private readonly options: PgListenerOptions) {
    this.delayMs = this.reconnectDelayMs;
  }

  private get reconnectDelayMs(): number {
    return this.options.reconnectDelayMs ?? 1000;
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 5000;
  }

  /** True while a connection is up and LISTENing on every channel. */
  get ready(): boolean {
    return this.conn !== undefined;
  }

  /** Resolves after the first try to LISTEN, whether it succeeded or a retry was scheduled. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = this.connect();
    await this.attempt;
  }

  /** Stops listening and closes the connection, within the listener's timeout. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    clearInterval(this.keepalive);
    this.keepalive = undefined;
    // a connection being opened closes itself when it sees `stopped`; wait for that, bounded
    await bounded(this.attempt ?? Promise.resolve(), this.timeoutMs, 'stop').catch(() => undefined);
    const conn = this.conn;
    this.conn = undefined;
    if (conn) await this.close(conn, undefined);
  }

  private async connect(): Promise<void> {
    let conn: Connection | undefined;
    try {
      conn = await this.open();
      const current = conn;
      current.client.on('notification', (msg: Notification) => {
        if (current.closed || this.stopped) return;
        const handler = this.options.channels[msg.channel];
        try {
          handler?.(msg.payload ?? '');
        } catch (err) {
          this.options.log.error(
            { err, listener: this.options.name, channel: msg.channel },
            'notification handler failed',
          );
        }
      });
      current.client.on('error', (err: Error) => this.lost(current, err));
      current.client.on('end', () => this.lost(current, new Error('LISTEN connection ended')));
      for (const channel of Object.keys(this.options.channels)) {
        await bounded(
          current.client.query(`LISTEN ${quoteIdent(channel)}`),
          this.timeoutMs,
          'LISTEN',
        );
      }
      if (this.stopped) {
        await this.close(current, undefined);
        return;
      }
      this.conn = current;
      this.delayMs = this.reconnectDelayMs;
      if (this.down)
        this.options.log.info({ listener: this.options.name }, 'notify listener up again');
      this.down = false;
      this.keepalive = setInterval(
        () => this.probe(current),
        this.options.keepaliveIntervalMs ?? 10_000,
      );
      this.keepalive.unref();
      this.options.onListening?.();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (conn) await this.close(conn, error);
      this.failed(error);
    }
  }

  private async open(): Promise<Connection> {
    const source = this.options.connection;
    if ('pool' in source) {
      const connecting = source.pool.connect();
      // a connection that arrives after the bound is given back, not leaked
      const client: PoolClient = await bounded(connecting, this.timeoutMs, 'connect').catch(
        (err: unknown) => {
          void connecting.then((late) => late.release(true)).catch(() => undefined);
          throw err;
        },
      );
      return { client, fromPool: true, closed: false };
    }
    const client = new Client({ connectionTimeoutMillis: this.timeoutMs, ...source.clientConfig });
    const conn = { client, fromPool: false, closed: false };
    client.on('error', () => undefined); // until the real handlers are set, an error only fails connect
    try {
      await bounded(client.connect(), this.timeoutMs, 'connect');
    } catch (err) {
      await this.close(conn, err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    return conn;
  }

  /** A probe that does not answer in time means the connection stalled: drop it. */
  private probe(conn: Connection): void {
    if (this.probing || conn.closed) return;
    this.probing = true;
    bounded(conn.client.query('SELECT 1'), this.timeoutMs, 'keepalive')
      .catch((err: unknown) => this.lost(conn, err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.probing = false;
      });
  }

  private lost(conn: Connection, err: Error): void {
    if (conn.closed) return;
    if (this.conn === conn) {
      this.conn = undefined;
      clearInterval(this.keepalive);
      this.keepalive = undefined;
    }
    void this.close(conn, err);
    if (this.stopped) return;
    this.options.onLost?.(err);
    this.failed(err);
  }

  private failed(err: Error): void {
    if (this.stopped) return;
    if (!this.down) {
      this.down = true;
      this.options.log.warn({ err, listener: this.options.name }, 'notify listener down');
    }
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.attempt = this.connect();
    }, this.delayMs);
    this.retry.unref();
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxReconnectDelayMs ?? 30_000);
  }

  /**
   * Closes a connection. After a failure the socket is destroyed at once (a stalled server
   * would never answer the goodbye); a clean stop says goodbye within the timeout.
   */
  private async close(conn: Connection, err: Error | undefined): Promise<void> {
    if (conn.closed) return;
    conn.closed = true;
    const { client } = conn;
    client.removeAllListeners('notification');
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    // pg does not type the socket; it is the connection's `stream`
    const socket = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
    if (conn.fromPool) {
      (client as PoolClient).release(err ?? true);
      if (err) socket?.destroy();
      return;
    }
    const own = client as Client;
    if (err) {
      socket?.destroy();
      void own.end().catch(() => undefined);
      return;
    }
    await bounded(own.end(), this.timeoutMs, 'close').catch(() => socket?.destroy());
  }
}
