import { Counter, Gauge, Histogram, LAG_BUCKETS_SECONDS } from '@reten/observability';
import type { Registry } from '@reten/observability';

/** The SDK's series; every one carries the eworker's name. */
export function createEworkerMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: 'reten_eworker_events_total',
      help: 'Event revisions taken off the queue, by outcome (processed, skipped duplicate, parked)',
      labelNames: ['eworker', 'outcome'] as const,
      registers: [registry],
    }),
    handlerFailures: new Counter({
      name: 'reten_eworker_handler_failures_total',
      help: 'Handler calls that threw (each is retried in place, then parked)',
      labelNames: ['eworker'] as const,
      registers: [registry],
    }),
    infraErrors: new Counter({
      name: 'reten_eworker_infrastructure_errors_total',
      help: 'Rounds that failed on PostgreSQL or RabbitMQ (retried, not counted as attempts)',
      labelNames: ['eworker'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'reten_eworker_batch_size',
      help: 'Events per PostgreSQL transaction',
      labelNames: ['eworker'] as const,
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
    processLag: new Histogram({
      name: 'reten_eworker_process_lag_seconds',
      help: 'Time from the acceptance of an event revision to the commit of its processing (parked replays left out)',
      labelNames: ['eworker'] as const,
      buckets: [...LAG_BUCKETS_SECONDS],
      registers: [registry],
    }),
    lastProcessed: new Gauge({
      name: 'reten_eworker_last_processed_timestamp_seconds',
      help: 'When this process last committed a processed event',
      labelNames: ['eworker'] as const,
      registers: [registry],
    }),
  };
}

export type EworkerMetrics = ReturnType<typeof createEworkerMetrics>;

/** `reten_eworker_buffered_messages`: delivered to this process, not yet acked (≤ prefetch). */
export function registerBufferedGauge(registry: Registry, eworker: string, read: () => number) {
  new Gauge({
    name: 'reten_eworker_buffered_messages',
    help: 'Messages delivered to this process and not yet acked or parked (at most the prefetch)',
    labelNames: ['eworker'] as const,
    registers: [registry],
    collect() {
      this.set({ eworker }, read());
    },
  });
}
