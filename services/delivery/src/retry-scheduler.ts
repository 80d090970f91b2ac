import {
  DELIVERY_HEADERS,
  DELIVERY_QUEUE,
  DELIVERY_RETRY_TIERS_MS,
  MESSAGE_HEADERS,
  deliveryRetryQueueName,
} from '@reten/contracts';
import type { ConfirmPublisher, OutgoingMessage } from '@reten/broker';

/** Due within this: sent straight back to `reten.delivery` instead of a tier. */
const DUE_NOW_MS = 50;

/** A targeted message: one delivery, the token it acts with, when it is due. */
export interface TargetedMessage {
  deliveryId: string;
  tenantId: string;
  token: string;
  dueAt: number;
  body: Buffer;
}

/** The queue a message due in `remainingMs` goes to: the largest tier not longer than that. */
export function queueFor(remainingMs: number): string {
  if (remainingMs <= DUE_NOW_MS) return DELIVERY_QUEUE;
  let chosen = DELIVERY_RETRY_TIERS_MS[0] as number;
  for (const tier of DELIVERY_RETRY_TIERS_MS) if (tier <= remainingMs) chosen = tier;
  return deliveryRetryQueueName(chosen);
}

/**
 * Publishes targeted messages to the retry tiers (or straight to `reten.delivery`) and waits
 * for the broker's confirm: a retry exists in RabbitMQ before the database says `retrying`.
 */
export class RetryScheduler {
  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly confirmTimeoutMs: number,
  ) {}

  async schedule(messages: TargetedMessage[], now = Date.now()): Promise<void> {
    const out: OutgoingMessage[] = messages.map((m) => ({
      exchange: '',
      routingKey: queueFor(m.dueAt - now),
      content: m.body,
      options: {
        persistent: true,
        contentType: 'application/json',
        headers: {
          [DELIVERY_HEADERS.deliveryId]: m.deliveryId,
          [DELIVERY_HEADERS.token]: m.token,
          [DELIVERY_HEADERS.dueAt]: m.dueAt,
          [MESSAGE_HEADERS.tenant]: m.tenantId,
        },
      },
    }));
    await this.publisher.publishBatch(out, this.confirmTimeoutMs);
  }
}
