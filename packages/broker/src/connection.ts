import { EventEmitter } from 'node:events';
import amqplib from 'amqplib';
import type { ChannelModel, RecoveringChannelModel } from 'amqplib';
import { redactUrl } from '@reten/observability';
import type { Logger } from '@reten/observability';
import { dropConnection, withTimeout } from './bounded';
import { coalesceWrites } from './coalesce-writes';

export interface BrokerOptions {
  url: string;
  log: Logger;
  heartbeatSeconds: number;
  /** Name shown in the RabbitMQ management UI's connection list. */
  connectionName: string;
  /** Called after every (re)connect: declare topology, recreate channels and consumers. */
  setup: (model: ChannelModel) => Promise<void>;
  /** Longest wait for `setup`; past it the connection is dropped and retried (default 10 s). */
  setupTimeoutMs?: number;
  /** Longest wait for the broker to confirm a close in `stop()` (default 2 s). */
  closeTimeoutMs?: number;
}

const DEFAULT_SETUP_TIMEOUT_MS = 10_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;

/**
 * One AMQP connection that reconnects with backoff forever (amqplib's recovery). Channels
 * and consumers are not restored by amqplib: `setup` recreates them after each reconnect.
 */
export class BrokerConnection extends EventEmitter {
  private model: RecoveringChannelModel | undefined;
  /** The live connection under amqplib's recovering model (set once `setup` succeeded). */
  private current: ChannelModel | undefined;
  private connectedFlag = false;

  constructor(private readonly options: BrokerOptions) {
    super();
  }

  get connected(): boolean {
    return this.connectedFlag;
  }

  /** Starts connecting; resolves at once (the first connection may come later). */
  async start(): Promise<void> {
    const { log } = this.options;
    const url = new URL(this.options.url);
    url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds));
    this.model = await amqplib.connect(url.toString(), {
      clientProperties: { connection_name: this.options.connectionName },
      timeout: 5_000,
      recovery: {
        initialDelay: 250,
        maxDelay: 10_000,
        factor: 2,
        jitter: 0.3,
        maxRetries: Infinity,
        waitForConnect: false,
        setup: async (model: ChannelModel) => this.runSetup(model),
      },
    });
    this.model.on('connect', () => {
      this.connectedFlag = true;
      log.info({ url: redactUrl(this.options.url) }, 'broker connected');
      this.emit('connect');
    });
    this.model.on('disconnect', (err: Error) => {
      this.connectedFlag = false;
      log.warn({ err: err?.message }, 'broker disconnected');
      this.emit('disconnect');
    });
    this.model.on('connect-failed', (err: Error) => {
      log.warn({ err: err?.message }, 'broker connection attempt failed');
    });
    this.model.on('error', (err: Error) => {
      log.warn({ err: err?.message }, 'broker connection error');
    });
  }

  private async runSetup(model: ChannelModel): Promise<void> {
    const timeoutMs = this.options.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    if (!coalesceWrites(model)) {
      this.options.log.warn('amqplib internals changed: socket writes are not coalesced');
    }
    try {
      await withTimeout(this.options.setup(model), timeoutMs, 'broker setup');
    } catch (err) {
      // amqplib closes a connection whose setup failed and waits for the broker's CloseOk; on a
      // stalled connection that wait never ends and blocks every later reconnect. Dropping the
      // socket first makes that close settle at once.
      await dropConnection(model, this.closeTimeoutMs);
      throw err;
    }
    this.current = model;
    model.once('close', () => {
      if (this.current === model) this.current = undefined;
    });
  }

  private get closeTimeoutMs(): number {
    return this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  }

  /** Resolves once connected, or rejects after `timeoutMs`. */
  async waitForConnect(timeoutMs: number): Promise<void> {
    if (this.connectedFlag) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connect', onConnect);
        reject(new Error(`broker not connected after ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connect', onConnect);
    });
  }

  /**
   * Closes the connection and stops reconnecting, within `timeoutMs` (default `closeTimeoutMs`)
   * whatever the broker does: a broker that does not confirm the close gets its socket dropped.
   */
  async stop(timeoutMs = this.closeTimeoutMs): Promise<void> {
    const model = this.model;
    this.model = undefined;
    this.connectedFlag = false;
    if (!model) return;
    try {
      await withTimeout(model.close(), timeoutMs, 'broker close');
    } catch {
      const current = this.current;
      if (current) await dropConnection(current, this.closeTimeoutMs);
    }
  }
}
