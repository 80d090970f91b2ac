import { Client } from 'pg';
import type { ClientConfig } from 'pg';
import type { Logger } from '@reten/observability';

const RECONNECT_MS = 1000;

/**
 * A dedicated connection LISTENing on channels; reconnects after errors and calls
 * `onReconnect` (a notification may have been missed while it was down).
 */
export class NotifyListener {
  private client: Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ClientConfig,
    private readonly channels: string[],
    private readonly onNotify: (channel: string, payload: string) => void,
    private readonly onReconnect: () => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect().catch((err: unknown) => {
      this.log.warn({ err }, 'notify listener failed to connect');
      this.retry();
    });
  }

  private async connect(): Promise<void> {
    const client = new Client(this.config);
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'notify listener connection error');
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      this.retry();
    });
    client.on('notification', (n) => this.onNotify(n.channel, n.payload ?? ''));
    await client.connect();
    for (const channel of this.channels) {
      await client.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
    }
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
    this.onReconnect();
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().catch((err: unknown) => {
        this.log.warn({ err }, 'notify listener failed to reconnect');
        this.retry();
      });
    }, RECONNECT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}
