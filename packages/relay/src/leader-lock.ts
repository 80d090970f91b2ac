import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Client } from 'pg';
import type { ClientConfig } from 'pg';
import type { Logger } from '@reten/observability';
import { PgListener } from '@reten/store';

/**
 * A session-level PostgreSQL advisory lock on a dedicated connection. Whoever holds it is the
 * one active relay; if its process dies the server drops the session and the lock with it,
 * and a standby's next try succeeds. While it holds the lock it LISTENs for outbox
 * notifications (on a second connection, which reconnects by itself) and emits `notify`.
 */
export class LeaderLock extends EventEmitter {
  private client: Client | undefined;
  private held = false;
  private listener: PgListener | undefined;

  private readonly clientConfig: ClientConfig;

  constructor(
    clientConfig: ClientConfig,
    private readonly lockName: string,
    private readonly channel: string,
    private readonly log: Logger,
  ) {
    super();
    // the server keeps the lock as long as it believes the session alive: probe the client so
    // a leader whose host died (no FIN, no RST) loses the lock in ~20 s, not the OS's 2 hours
    this.clientConfig = {
      ...clientConfig,
      options:
        `${clientConfig.options ?? ''} -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=3 -c tcp_keepalives_count=3`.trim(),
    };
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** One attempt to take the lock; true when this process now holds it. */
  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    if (!this.client) {
      const client = new Client(this.clientConfig);
      client.on('error', (err) => this.lost(err));
      client.on('end', () => this.lost(new Error('lock connection ended')));
      await client.connect();
      this.client = client;
    }
    const res = await this.client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [this.lockName],
    );
    if (res.rows[0]?.locked !== true) return false;
    this.held = true;
    await this.listen();
    return true;
  }

  private async listen(): Promise<void> {
    const listener = new PgListener({
      name: 'outbox',
      connection: { clientConfig: this.clientConfig },
      channels: { [this.channel]: () => this.emit('notify') },
      // rows committed while nobody listened would otherwise wait for the relay's next poll
      onListening: () => this.emit('notify'),
      log: this.log,
    });
    this.listener = listener;
    await listener.start();
  }

  private stopListening(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    return listener?.stop() ?? Promise.resolve();
  }

  private lost(err: Error): void {
    const wasHeld = this.held;
    this.held = false;
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners('end');
    void client?.end().catch(() => undefined);
    void this.stopListening();
    if (wasHeld) {
      this.log.warn({ err: err.message }, 'relay lock lost');
      this.emit('lost');
    }
  }

  /**
   * Releases the lock and closes the connection, within `deadlineMs`: past it the socket is
   * dropped, and the server frees the lock with the session.
   */
  async release(deadlineMs: number): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held = false;
    const listening = this.stopListening();
    if (!client) return listening;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    const released = (async () => {
      await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await client.end().catch(() => undefined);
      await listening;
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      released.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    // pg does not type the socket; it is the connection's `stream`
    if (late) (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
  }
}
