import type { ConsumeMessage } from 'amqplib';
import type { ConfirmPublisher } from '@reten/broker';
import { eworkerParkedQueueName } from '@reten/contracts';

/** Headers a parked copy carries besides the original ones. */
export const PARKED_HEADERS = { error: 'x-reten-parked-error', eworker: 'x-reten-parked-by' };

/**
 * Copies a message the eworker gives up on to `reten.eworker.<name>.parked`, and resolves
 * only once the broker confirmed the copy (so acking the original afterwards loses nothing).
 */
export class Parker {
  private readonly queue: string;

  constructor(
    private readonly eworker: string,
    private readonly publisher: ConfirmPublisher,
    private readonly confirmTimeoutMs: number,
  ) {
    this.queue = eworkerParkedQueueName(eworker);
  }

  async park(msg: ConsumeMessage, error: string): Promise<void> {
    const p = msg.properties;
    const headers = { ...((p.headers ?? {}) as Record<string, unknown>) };
    headers[PARKED_HEADERS.error] = error;
    headers[PARKED_HEADERS.eworker] = this.eworker;
    const messageId: unknown = p.messageId;
    const contentType: unknown = p.contentType;
    await this.publisher.publishBatch(
      [
        {
          exchange: '',
          routingKey: this.queue,
          content: msg.content,
          options: {
            persistent: true,
            headers,
            type: msg.fields.routingKey,
            ...(typeof messageId === 'string' ? { messageId } : {}),
            ...(typeof contentType === 'string' ? { contentType } : {}),
          },
        },
      ],
      this.confirmTimeoutMs,
    );
  }
}
