import type { Channel, ConsumeMessage } from 'amqplib';
import { readEventHeaders, receivedAtMs } from '@reten/broker';
import { lagSeconds } from '@reten/observability';
import type { Logger, Registry } from '@reten/observability';
import type { Pool } from '@reten/store';
import { AbortableSleep } from './abortable-sleep';
import { runBatch } from './batch-transaction';
import type { BatchDeps, BatchItem } from './batch-transaction';
import type { EworkerDefinition } from './define-eworker';
import { parseMessage } from './incoming-message';
import { isParked, markFailed } from './marks-store';
import type { EworkerMetrics } from './metrics';
import type { Parker } from './parker';
import { retryDelayMs } from './retry-backoff';

export interface InOrderOptions {
  maxBatch: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

interface Delivery {
  channel: Channel;
  msg: ConsumeMessage;
}

interface Parsed extends BatchItem {
  delivery: Delivery;
}

/**
 * Handles the deliveries of one queue strictly one after another, in delivery order, while the
 * broker keeps up to `prefetch` messages buffered here.
 * Invariants: at most one batch is in progress (one loop); a message is acked only after its
 * outcome (processed mark or parked copy + failed mark) is durable; messages are acked in
 * delivery order (a batch with `multiple`); nothing is ever requeued to retry (it would go to
 * the back of the queue). A handler that throws is retried in place while later messages wait.
 */
export class InOrderConsumer {
  private buffer: Delivery[] = [];
  private readonly closed = new WeakSet<Channel>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly sleeper = new AbortableSleep();
  /** The message that failed inside a batch: its next try runs alone, as attempt 2. */
  private failedInBatch: { msg: ConsumeMessage; error: string } | undefined;
  /** One-shot cap of the next batch: the prefix before a failing message, or 1 after an abort. */
  private nextBatchLimit: number | undefined;
  private readonly deps: BatchDeps;

  constructor(
    private readonly definition: EworkerDefinition,
    private readonly pool: Pool,
    private readonly parker: Parker,
    private readonly options: InOrderOptions,
    private readonly metrics: EworkerMetrics,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.deps = { pool, definition, log, registry };
  }

  /** Called for every delivery of the consumer (any channel; channels come and go). */
  push(channel: Channel, msg: ConsumeMessage): void {
    if (this.closed.has(channel)) return;
    this.buffer.push({ channel, msg });
    this.kick();
  }

  /** The channel died: its unacked messages go back to the queue, so forget them here. */
  channelClosed(channel: Channel): void {
    this.closed.add(channel);
    this.buffer = this.buffer.filter((d) => d.channel !== channel);
    if (this.failedInBatch && !this.buffer.some((d) => d.msg === this.failedInBatch?.msg)) {
      this.failedInBatch = undefined;
    }
    this.sleeper.wake();
  }

  /** Messages received and not yet acked or parked. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Finishes the batch in progress (a retry backoff is cut short) and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    await this.loop;
  }

  private kick(): void {
    if (this.loop || this.stopping) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      if (this.buffer.length > 0 && !this.stopping) this.kick();
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.buffer.length > 0 && !this.stopping) {
      try {
        await this.step();
        failures = 0;
      } catch (err) {
        // PostgreSQL or the broker failed: keep the head where it is and try again
        failures += 1;
        this.metrics.infraErrors.inc({ eworker: this.definition.name });
        this.log.warn({ err, eworker: this.definition.name }, 'eworker round failed, will retry');
        await this.sleeper.sleep(
          retryDelayMs(failures + 1, this.options.retryBaseMs, this.options.retryMaxMs),
        );
      }
    }
  }

  private alive(channel: Channel): () => boolean {
    return () => !this.closed.has(channel) && !this.stopping;
  }

  private async step(): Promise<void> {
    const head = this.buffer[0];
    if (!head) return;
    if (this.failedInBatch?.msg === head.msg) {
      const parsed = parseMessage(head.msg, this.definition.schema);
      const { error } = this.failedInBatch;
      this.failedInBatch = undefined;
      if (parsed.ok) {
        await this.retryThenPark(
          { delivery: head, event: parsed.event, trace: parsed.trace },
          error,
        );
      }
      return;
    }
    const limit = Math.min(this.nextBatchLimit ?? this.options.maxBatch, this.options.maxBatch);
    this.nextBatchLimit = undefined;
    const batch: Parsed[] = [];
    for (const delivery of this.buffer.slice(0, limit)) {
      const parsed = parseMessage(delivery.msg, this.definition.schema);
      if (!parsed.ok) {
        if (batch.length === 0) {
          // unparseable: parked at once, no retry can fix it
          if (!(
            parsed.identity && (await isParked(this.pool, this.definition.name, parsed.identity))
          )) {
            await this.park(delivery, parsed.error, 0, parsed.identity);
          } else {
            this.ack(delivery);
          }
          return;
        }
        break; // handle the parseable prefix first: order
      }
      batch.push({ delivery, event: parsed.event, trace: parsed.trace });
    }
    const channel = head.channel;
    const outcome = await runBatch(this.deps, batch, 1, this.alive(channel));
    switch (outcome.kind) {
      case 'committed':
        this.completed(batch, outcome);
        return;
      case 'channel-lost':
        return;
      case 'aborted':
        if (batch.length > 1) this.nextBatchLimit = 1;
        else await this.retryThenPark(batch[0]!, 'the handler left its transaction aborted');
        return;
      case 'handler-failed': {
        this.metrics.handlerFailures.inc({ eworker: this.definition.name });
        const failing = batch[outcome.index]!;
        if (outcome.index > 0) {
          this.nextBatchLimit = outcome.index;
          this.failedInBatch = { msg: failing.delivery.msg, error: outcome.error };
        } else {
          await this.retryThenPark(failing, outcome.error);
        }
        return;
      }
    }
  }

  /** Tries 2…maxAttempts of one event, alone, with backoff; then parks it. */
  private async retryThenPark(item: Parsed, firstError: string): Promise<void> {
    const { channel } = item.delivery;
    const alive = this.alive(channel);
    let error = firstError;
    for (let attempt = 2; attempt <= this.options.maxAttempts; attempt += 1) {
      this.log.warn(
        { eworker: this.definition.name, eventId: item.event.id, attempt, err: error },
        'handler failed, retrying in place',
      );
      await this.sleeper.sleep(
        retryDelayMs(attempt, this.options.retryBaseMs, this.options.retryMaxMs),
      );
      if (!alive()) return; // stopping or channel gone: the message comes back, attempts restart
      const outcome = await runBatch(this.deps, [item], attempt, alive);
      if (outcome.kind === 'committed') {
        this.completed([item], outcome);
        return;
      }
      if (outcome.kind === 'channel-lost') return;
      this.metrics.handlerFailures.inc({ eworker: this.definition.name });
      error =
        outcome.kind === 'handler-failed'
          ? outcome.error
          : 'the handler left its transaction aborted';
    }
    if (!alive()) return;
    await this.park(item.delivery, error, this.options.maxAttempts, {
      eventId: item.event.id,
      revision: item.event.revision,
      tenantId: item.event.tenantId,
      type: item.event.type,
    });
  }

  private async park(
    delivery: Delivery,
    error: string,
    attempts: number,
    identity: Parameters<typeof markFailed>[2] | undefined,
  ): Promise<void> {
    await this.parker.park(delivery.msg, error);
    if (identity) await markFailed(this.pool, this.definition.name, identity, attempts, error);
    this.log.warn(
      { eworker: this.definition.name, eventId: identity?.eventId, attempts, err: error },
      'event parked',
    );
    this.metrics.events.inc({ eworker: this.definition.name, outcome: 'parked' });
    this.ack(delivery);
  }

  private completed(
    batch: Parsed[],
    { processed, skipped, handled }: { processed: number; skipped: number; handled: number[] },
  ): void {
    const last = batch[batch.length - 1];
    if (!last) return;
    const name = this.definition.name;
    if (processed > 0) {
      const now = Date.now();
      this.metrics.events.inc({ eworker: name, outcome: 'processed' }, processed);
      this.metrics.lastProcessed.set({ eworker: name }, now / 1000);
      for (const index of handled) {
        const msg = batch[index]?.delivery.msg;
        // a parked replay is an operator's decision, not lag
        if (!msg || readEventHeaders(msg).replay) continue;
        const acceptedAt = receivedAtMs(msg);
        if (acceptedAt !== undefined) {
          this.metrics.processLag.observe({ eworker: name }, lagSeconds(acceptedAt, now));
        }
      }
    }
    if (skipped > 0) this.metrics.events.inc({ eworker: name, outcome: 'skipped' }, skipped);
    this.metrics.batchSize.observe({ eworker: name }, batch.length);
    this.ack(last.delivery, batch.length);
  }

  /** Acks `delivery` and every earlier one of its channel, and drops them from the buffer. */
  private ack(delivery: Delivery, count = 1): void {
    if (this.buffer[count - 1] === delivery) this.buffer.splice(0, count);
    if (this.closed.has(delivery.channel)) return;
    try {
      delivery.channel.ack(delivery.msg, true);
    } catch (err) {
      // the channel closed under us: the broker redelivers, marks make that harmless
      this.log.warn({ err, eworker: this.definition.name }, 'ack failed');
    }
  }
}
