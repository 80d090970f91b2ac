import { EventEmitter } from 'node:events';
import amqplib from 'amqplib';
import type { ChannelModel, RecoveringChannelModel } from 'amqplib';
import { redactUrl } from '@reten/observability';
import type { Logger } from '@reten/observability';

export interface BrokerOptions {
  url: string;
  log: Logger;
  heartbeatSeconds: number;
  /** Name shown in the RabbitMQ management UI's connection list. */
  connectionName: string;
  /** Called after every (re)connect: declare topology, recreate channels and consumers. */
  setup: (model: ChannelModel) => Promise<void>;
}

/**
 * One AMQP connection that reconnects with backoff forever (amqplib's recovery). Channels
 * and consumers are not restored by amqplib: `setup` recreates them after each reconnect.
 */
export class BrokerConnection extends EventEmitter {
  private model: RecoveringChannelModel | undefined;
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
        setup: async (model: ChannelModel) => {
          await this.options.setup(model);
        },
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

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    this.connectedFlag = false;
    if (model) await model.close().catch(() => undefined);
  }
}
