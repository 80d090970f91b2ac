import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '@reten/observability';

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/** Thrown when a publish cannot be confirmed: the caller keeps the messages and tries again. */
export class PublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/**
 * Publishes batches on a confirm channel: resolves only once the broker has confirmed every
 * message of the batch (persisted for durable queues), rejects otherwise.
 */
export class ConfirmPublisher {
  private channel: ConfirmChannel | undefined;
  private model: ChannelModel | undefined;

  constructor(private readonly log: Logger) {}

  /** Call from the connection's setup: opens a fresh confirm channel on the new connection. */
  async attach(model: ChannelModel): Promise<ConfirmChannel> {
    this.model = model;
    model.once('close', () => {
      if (this.model === model) this.model = undefined;
    });
    return this.open(model);
  }

  private async open(model: ChannelModel): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    channel.on('error', (err: Error) =>
      this.log.warn({ err: err.message }, 'publish channel error'),
    );
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.channel = channel;
    return channel;
  }

  /**
   * Whether a publish can be tried: a channel is open, or the connection lives and a channel
   * can be reopened on it (after a nack or a confirm timeout closed the last one).
   */
  get ready(): boolean {
    return this.channel !== undefined || this.model !== undefined;
  }

  /** Publishes all messages in order and waits for the broker's confirms. */
  async publishBatch(messages: OutgoingMessage[], timeoutMs: number): Promise<void> {
    let channel = this.channel;
    if (!channel && this.model) {
      // the channel died (nack, timeout) but the connection may live: reopen on it
      channel = await this.open(this.model).catch(() => undefined);
    }
    if (!channel) throw new PublishError('no publish channel (broker disconnected)');
    for (const m of messages) {
      channel.publish(m.exchange, m.routingKey, m.content, m.options);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        channel.waitForConfirms(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new PublishError(`no confirm within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      // A nack, a closed channel or a timeout: nothing of this batch counts as published.
      if (this.channel === channel) {
        this.channel = undefined;
        await channel.close().catch(() => undefined);
      }
      throw err instanceof PublishError
        ? err
        : new PublishError('publish not confirmed', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
