import { EventEmitter, once } from 'node:events';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Topology } from '@reten/contracts';
import type { Logger } from '@reten/observability';
import { withTimeout } from './bounded';
import { declareTopology } from './topology';

export interface QueueConsumerOptions {
  queue: string;
  /** Declared on the consume channel after every connect; omit when another channel declares it. */
  topology?: Topology;
  /** Unacked messages the broker sends ahead. */
  prefetch: number;
  /**
   * Each delivery, with the channel it came on (ack and nack on that channel). A promise
   * returned is tracked: `drain` waits for it.
   */
  onMessage: (msg: ConsumeMessage, channel: Channel) => void | Promise<void>;
  /** A channel closed: its unacked messages go back to the queue, so forget them. */
  onChannelClosed?: (channel: Channel) => void;
  log: Logger;
}

/** Waits for `promise` at most `ms`, ignoring its failure (the caller is closing). */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  await withTimeout(
    promise.catch(() => undefined),
    ms,
    'consumer close',
  ).catch(() => undefined);
}

/**
 * The one consumer of a queue. amqplib recovers the connection only, so `attach` runs from
 * the connection's setup after every (re)connect: a fresh channel, the topology, the prefetch,
 * then `basic.consume`. Emits `consuming` each time a consumer is attached.
 *
 * Stopping has two shapes: `cancel` (basic.cancel, then `drain`) for a shared queue, and
 * `drain` then `close` (no cancel) for a single-active-consumer queue, where a cancel would
 * activate the standby on later messages while this process still holds earlier ones.
 */
export class QueueConsumer extends EventEmitter {
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  /** Handlers still running, and who waits for there to be none. */
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly options: QueueConsumerOptions) {
    super();
  }

  /** Call from the connection's setup: recreates channel, topology, prefetch and consumer. */
  async attach(model: ChannelModel): Promise<void> {
    const { queue, log } = this.options;
    const channel = await model.createChannel();
    channel.on('error', (err: Error) =>
      log.warn({ err: err.message, queue }, 'consume channel error'),
    );
    channel.on('close', () => {
      if (this.channel === channel) {
        this.channel = undefined;
        this.consumerTag = undefined;
      }
      this.options.onChannelClosed?.(channel);
    });
    if (this.options.topology) await declareTopology(channel, this.options.topology);
    await channel.prefetch(this.options.prefetch);
    if (this.stopped) {
      void channel.close().catch(() => undefined);
      return;
    }
    const { consumerTag } = await channel.consume(
      queue,
      (msg) => {
        if (msg) this.deliver(msg, channel);
      },
      { noAck: false },
    );
    this.channel = channel;
    this.consumerTag = consumerTag;
    this.emit('consuming');
  }

  private deliver(msg: ConsumeMessage, channel: Channel): void {
    const handled = this.options.onMessage(msg, channel);
    if (!handled) return;
    this.inFlight += 1;
    const done = (): void => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idle?.();
    };
    handled.then(done, (err: unknown) => {
      this.options.log.warn({ err, queue: this.options.queue }, 'message handler failed');
      done();
    });
  }

  /** Whether a consumer is attached now. */
  get consuming(): boolean {
    return this.consumerTag !== undefined;
  }

  /** Whether `channel` is the live one (a handler retrying on a dead channel should give up). */
  isCurrent(channel: Channel): boolean {
    return this.channel === channel;
  }

  /** For `/readyz`: why this process does not consume, or undefined. */
  problem(): string | undefined {
    return this.consuming ? undefined : 'not consuming';
  }

  /** Resolves once a consumer is attached (at once if it is), rejects after `timeoutMs`. */
  async whenConsuming(timeoutMs: number): Promise<void> {
    if (this.consuming) return;
    await withTimeout(once(this, 'consuming'), timeoutMs, `consumer of ${this.options.queue}`);
  }

  /**
   * From now on a reconnect attaches no consumer (the process is stopping); what is attached
   * keeps delivering until `cancel` or `close`. `cancel`, `drain` and `close` imply it.
   */
  stop(): void {
    this.stopped = true;
  }

  /** Stops consuming (basic.cancel, bounded; the channel stays open for acks until `close`). */
  async cancel(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    if (channel && consumerTag) await settleWithin(channel.cancel(consumerTag), timeoutMs);
  }

  /** Waits for the tracked handlers (at most `timeoutMs`); what is unfinished stays unacked. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopped = true;
    if (this.inFlight === 0) return;
    await settleWithin(new Promise<void>((resolve) => (this.idle = resolve)), timeoutMs);
  }

  /**
   * Closes the channel (bounded: amqplib settles a close only on the broker's CloseOk, which a
   * stalled broker never sends). Its unacked messages go back to the queue, in order.
   */
  async close(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const channel = this.channel;
    this.channel = undefined;
    this.consumerTag = undefined;
    if (channel) await settleWithin(channel.close(), timeoutMs);
  }
}
