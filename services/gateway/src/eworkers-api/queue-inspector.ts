import type { ChannelModel } from 'amqplib';

export interface QueueState {
  consumers: number;
  messages: number;
}

/**
 * Reads queue depth and consumer count with a passive `checkQueue` on a short-lived channel
 * (a missing queue closes the channel it was asked on, so never on a shared one).
 */
export class QueueInspector {
  private model: ChannelModel | undefined;

  /** Call from the broker connection's setup with the new connection. */
  attach(model: ChannelModel): void {
    this.model = model;
  }

  /** Undefined when the broker is unreachable or the queue does not exist. */
  async inspect(queue: string, timeoutMs: number): Promise<QueueState | undefined> {
    const model = this.model;
    if (!model) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const check = (async () => {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      try {
        const q = await channel.checkQueue(queue);
        return { consumers: q.consumerCount, messages: q.messageCount };
      } finally {
        await channel.close().catch(() => undefined);
      }
    })().catch(() => undefined);
    try {
      return await Promise.race([check, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
