import type { Logger } from '@reten/observability';
import { eventEnvelopeJson } from '@reten/contracts';
import type { DeliveryStore } from './delivery-store';
import type { KeyOrder } from './key-order';
import type { DeliveryMetrics } from './metrics';
import type { RetryScheduler } from './retry-scheduler';

const BATCH = 200;
/**
 * Least time between two sweeps for held deliveries whose key is free: a fallback (a process
 * killed between an outcome and its release), and it reads every held row's key.
 */
const SWEEP_MIN_MS = 10_000;

/**
 * Moves deliveries the API queued (manual retry, replay) and held deliveries whose ordering key
 * became free from PostgreSQL to `reten.delivery` in event order, as targeted messages carrying
 * the token the API (or the release) set. Woken by NOTIFY,
 * polls as a fallback; a failed publish leaves them queued for the next round.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private sweptAt = 0;
  private stopped = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly scheduler: RetryScheduler,
    private readonly keyOrder: KeyOrder,
    private readonly pollMs: number,
    private readonly metrics: DeliveryMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Runs a round now (or right after the current one). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async round(): Promise<void> {
    try {
      // held deliveries whose key is free again (normally released when their head ends;
      // this finds the rest: a process killed in between, keys an operator unblocked)
      if (Date.now() - this.sweptAt >= Math.max(this.pollMs, SWEEP_MIN_MS)) {
        this.sweptAt = Date.now();
        await this.keyOrder.releaseAll(BATCH);
      }
      for (;;) {
        const n = await this.store.dispatch(BATCH, (items) =>
          this.scheduler.schedule(
            items.map((i) => ({
              deliveryId: i.row.id,
              tenantId: i.row.tenantId,
              token: i.row.token ?? '',
              dueAt: 0,
              // a manual retry or a replay continues the event's trace like its first attempt
              traceparent: i.traceparent ?? undefined,
              tracestate: i.tracestate ?? undefined,
              body: Buffer.from(
                eventEnvelopeJson({
                  eventId: i.row.eventId,
                  eventType: i.row.eventType,
                  occurredAt: i.occurredAt,
                  revision: i.row.revision,
                  orderingKey: i.orderingKey,
                  dataJson: i.dataJson,
                }),
              ),
            })),
          ),
        );
        if (n < BATCH || this.stopped) return;
      }
    } catch (err) {
      this.metrics.errors.inc({ kind: 'dispatch' });
      this.log.warn({ err }, 'dispatch round failed, will retry');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
