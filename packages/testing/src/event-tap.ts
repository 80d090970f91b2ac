import amqplib from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { EVENTS_EXCHANGE } from '@reten/contracts';

export interface TappedMessage {
  routingKey: string;
  body: unknown;
  /** The message body exactly as published. */
  content: string;
  messageId: string | undefined;
  headers: Record<string, unknown>;
  /** 2 when the message was published persistent. */
  deliveryMode: number | undefined;
  contentType: string | undefined;
}

/**
 * A durable queue bound to `reten.events` in a test's vhost, consumed into `messages`: what a
 * consumer of the exchange really receives. Declared before anything is published, so
 * nothing routed to it is missed; deleted with the vhost.
 */
export class EventTap {
  readonly messages: TappedMessage[] = [];

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
  ) {}

  static async open(vhostUrl: string, bindingKey = '#', queue = 'test.tap'): Promise<EventTap> {
    const connection = await amqplib.connect(vhostUrl);
    const channel = await connection.createChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, EVENTS_EXCHANGE, bindingKey);
    const tap = new EventTap(connection, channel);
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        const content = msg.content.toString('utf8');
        tap.messages.push({
          routingKey: msg.fields.routingKey,
          body: JSON.parse(content) as unknown,
          content,
          messageId: msg.properties.messageId as string | undefined,
          headers: msg.properties.headers ?? {},
          deliveryMode: msg.properties.deliveryMode as number | undefined,
          contentType: msg.properties.contentType as string | undefined,
        });
      },
      { noAck: true },
    );
    return tap;
  }

  /** Event ids in the order they arrived. */
  eventIds(): string[] {
    return this.messages.map((m) => (m.body as { event_id: string }).event_id);
  }

  /**
   * Messages in first-arrival order with redeliveries dropped, as a consumer that dedupes on
   * `(event_id, revision)` sees them (publishing is at-least-once).
   */
  uniqueMessages(): TappedMessage[] {
    const seen = new Set<string>();
    return this.messages.filter((m) => {
      const { event_id, revision } = m.body as { event_id: string; revision: number };
      const key = `${event_id}:${revision}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}
