import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import type { Logger } from '@reten/observability';
import { withTimeout } from './bounded';

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

const OPEN_TIMEOUT_MS = 10_000;

/** Closes a channel in the background: nothing waits for a broker that may never answer. */
function discard(channel: ConfirmChannel): void {
  void channel.close().catch(() => undefined);
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

  private async open(model: ChannelModel, timeoutMs = OPEN_TIMEOUT_MS): Promise<ConfirmChannel> {
    const opening = model.createConfirmChannel();
    let channel: ConfirmChannel;
    try {
      channel = await withTimeout(opening, timeoutMs, 'confirm channel open');
    } catch (err) {
      // a channel that opens after its bound was given up on is closed, not leaked
      void opening.then(discard, () => undefined);
      throw err;
    }
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

  /**
   * Publishes all messages in order and waits for the broker's confirms. Settles within about
   * `timeoutMs` whatever the broker does (rejecting with `PublishError`).
   */
  async publishBatch(messages: OutgoingMessage[], timeoutMs: number): Promise<void> {
    let channel = this.channel;
    if (!channel && this.model) {
      // the channel died (nack, timeout) but the connection may live: reopen on it
      channel = await this.open(this.model, timeoutMs).catch(() => undefined);
    }
    if (!channel) throw new PublishError('no publish channel (broker disconnected)');
    try {
      for (const m of messages) {
        channel.publish(m.exchange, m.routingKey, m.content, m.options);
      }
      await withTimeout(channel.waitForConfirms(), timeoutMs, 'publisher confirms');
    } catch (err) {
      // A nack, a closed channel or a timeout: nothing of this batch counts as published. The
      // channel is closed without waiting: its CloseOk may never come (stalled broker).
      if (this.channel === channel) this.channel = undefined;
      discard(channel);
      throw new PublishError('publish not confirmed', { cause: err });
    }
  }
}
