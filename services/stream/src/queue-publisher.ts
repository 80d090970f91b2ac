import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Redis } from 'ioredis';
import { STREAM_QUEUE, STREAM_TOPOLOGY } from '@reten/contracts';
import { declareTopology, readEventHeaders } from '@reten/broker';
import type { Logger } from '@reten/observability';
import type { StreamMetrics } from './metrics';
import { encodeLiveEvent, tenantChannel } from './redis-message';

/**
 * Consumes `reten.stream` (single active consumer: one replica at a time) and PUBLISHes each
 * event to its tenant's Redis channel. A message is acked only after Redis accepted the
 * PUBLISH; ioredis keeps commands in order (and queues them while reconnecting), so the
 * channel order is the queue order, which is the relay's publish (stream position) order.
 */
export class QueuePublisher {
  private channel: Channel | undefined;
  private inFlight = 0;
  private stopping = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly prefetch: number,
    private readonly metrics: StreamMetrics,
    private readonly log: Logger,
  ) {}

  /** Called after every broker (re)connect: topology, channel and consumer are recreated. */
  async attach(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (err: Error) =>
      this.log.warn({ err: err.message }, 'stream channel error'),
    );
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    await declareTopology(channel, STREAM_TOPOLOGY);
    await channel.prefetch(this.prefetch);
    await channel.consume(
      STREAM_QUEUE,
      (msg) => {
        if (msg) this.handle(channel, msg);
      },
      { noAck: false },
    );
    this.channel = channel;
  }

  private handle(channel: Channel, msg: ConsumeMessage): void {
    // stopping: leave it unacked; closing the channel returns it, in order, for the standby
    if (this.stopping) return;
    const { tenantId, streamPosition, eventType } = readEventHeaders(msg);
    if (
      tenantId === undefined ||
      streamPosition === undefined ||
      !/^[0-9]+$/.test(streamPosition)
    ) {
      // not something the relay published (or a relay older than stream positions): it has
      // no place in the stream, so it is dropped loudly
      this.metrics.badQueueMessages.inc();
      this.log.error(
        { messageId: msg.properties.messageId },
        'stream message without tenant or stream position dropped',
      );
      channel.ack(msg);
      return;
    }
    const payload = encodeLiveEvent(streamPosition, Date.now(), eventType, msg.content);
    this.inFlight += 1;
    this.redis
      .publish(tenantChannel(this.prefix, tenantId), payload)
      .then(
        () => {
          this.metrics.redisPublished.inc();
          try {
            channel.ack(msg);
          } catch {
            // the channel closed meanwhile: the broker redelivers, replicas drop the duplicate
          }
        },
        (err: unknown) => {
          // unacked: redelivered once the channel is recreated
          this.log.warn({ err }, 'redis publish failed');
        },
      )
      .finally(() => {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.idle?.();
      });
  }

  /**
   * Stops consuming (another replica takes over) after the in-flight publishes. No
   * basic.cancel: on a single-active-consumer queue it activates the standby at once, which
   * would publish later events while this replica still publishes earlier ones (order seen
   * broken on 3.10.8). Messages that arrive meanwhile stay unacked and return in order when
   * the channel closes.
   */
  async stop(timeoutMs: number): Promise<void> {
    const channel = this.channel;
    this.stopping = true;
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    // bounded: amqplib settles a channel close only on the broker's CloseOk, which a stalled
    // broker never sends (the connection's own stop drops it then)
    if (channel) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        channel.close().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.channel = undefined;
  }
}
