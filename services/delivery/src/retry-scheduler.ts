import { DELIVERY_QUEUE, DELIVERY_RETRY_TIERS_MS, deliveryRetryQueueName } from '@reten/contracts';
import { encodeTargetedMessage } from '@reten/broker';
import type { ConfirmPublisher, TargetedMessage } from '@reten/broker';

/** Due within this: sent straight back to `reten.delivery` instead of a tier. */
const DUE_NOW_MS = 50;

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
    const out = messages.map((m) => encodeTargetedMessage(m, queueFor(m.dueAt - now)));
    await this.publisher.publishBatch(out, this.confirmTimeoutMs);
  }
}
