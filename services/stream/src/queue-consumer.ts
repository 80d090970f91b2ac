import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Redis } from 'ioredis';
import { STREAM_QUEUE, STREAM_TOPOLOGY } from '@reten/contracts';
import { QueueConsumer, readEventHeaders, receivedAtMs } from '@reten/broker';
import type { Logger } from '@reten/observability';
import type { StreamMetrics } from './metrics';
import { encodeLiveEvent, tenantChannel } from './redis-message';

/**
 * Consumes `reten.stream` (single active consumer: one replica at a time) and PUBLISHes each
 * event to its tenant's Redis channel. A message is acked only after Redis accepted the
 * PUBLISH; ioredis keeps commands in order (and queues them while reconnecting), so the
 * channel order is the queue order, which is the relay's publish (stream position) order.
 */
export class StreamQueueConsumer {
  private readonly consumer: QueueConsumer;
  private stopping = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    prefetch: number,
    private readonly metrics: StreamMetrics,
    private readonly log: Logger,
  ) {
    this.consumer = new QueueConsumer({
      queue: STREAM_QUEUE,
      topology: STREAM_TOPOLOGY,
      prefetch,
      onMessage: (msg, channel) => this.handle(channel, msg),
      log,
    });
  }

  /** Called after every broker (re)connect: topology, channel and consumer are recreated. */
  async attach(model: ChannelModel): Promise<void> {
    await this.consumer.attach(model);
  }

  private handle(channel: Channel, msg: ConsumeMessage): Promise<void> | undefined {
    // stopping: leave it unacked; closing the channel returns it, in order, for the standby
    if (this.stopping) return undefined;
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
      return undefined;
    }
    const payload = encodeLiveEvent(
      streamPosition,
      Date.now(),
      eventType,
      msg.content,
      receivedAtMs(msg),
    );
    return this.redis.publish(tenantChannel(this.prefix, tenantId), payload).then(
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
    );
  }

  /**
   * Stops consuming (another replica takes over) after the in-flight publishes. No
   * basic.cancel: on a single-active-consumer queue it activates the standby at once, which
   * would publish later events while this replica still publishes earlier ones (order seen
   * broken on 3.10.8). Messages that arrive meanwhile stay unacked and return in order when
   * the channel closes.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    await this.consumer.drain(timeoutMs);
    await this.consumer.close(timeoutMs);
  }
}
