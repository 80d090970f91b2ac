import { Counter, Gauge, Histogram, LAG_BUCKETS_SECONDS } from '@reten/observability';
import type { Registry } from '@reten/observability';

/**
 * The relay's series, registered by whichever process runs it (dashboards and alerts name
 * them: keep the names).
 */
export function createRelayMetrics(registry: Registry) {
  return {
    eventsPublished: new Counter({
      name: 'reten_relay_published_total',
      help: 'Event revisions published to RabbitMQ and confirmed',
      registers: [registry],
    }),
    relayPublishLatency: new Histogram({
      name: 'reten_relay_publish_latency_seconds',
      help: 'Time from commit of an event to its publisher confirm',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    publishLag: new Histogram({
      name: 'reten_event_publish_lag_seconds',
      help: 'Time from the acceptance of an event revision to its publisher confirm from RabbitMQ',
      buckets: [...LAG_BUCKETS_SECONDS],
      registers: [registry],
    }),
    relayErrors: new Counter({
      name: 'reten_relay_errors_total',
      help: 'Failed relay rounds (they are retried)',
      registers: [registry],
    }),
    relayActive: new Gauge({
      name: 'reten_relay_active',
      help: '1 when this process holds the relay lock and publishes',
      registers: [registry],
    }),
  };
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;

export interface OutboxLag {
  backlog: number;
  oldestAgeSeconds: number;
}

/**
 * `reten_outbox_backlog` and `reten_outbox_oldest_age_seconds`, read from PostgreSQL at scrape
 * time (one query for both). The age grows without bound when nothing publishes, whatever the
 * relay believes about itself: the signal an alert and an orchestrator can trust.
 */
export function registerOutboxGauges(registry: Registry, read: () => Promise<OutboxLag>): void {
  let pending: Promise<OutboxLag> | undefined;
  // both gauges collect on the same scrape: share one query
  const lag = async () => {
    pending ??= read().finally(() => (pending = undefined));
    return pending;
  };
  new Gauge({
    name: 'reten_outbox_backlog',
    help: 'Committed event revisions not yet published to RabbitMQ',
    registers: [registry],
    async collect() {
      try {
        this.set((await lag()).backlog);
      } catch {
        // leave the last value; /readyz reports the database problem
      }
    },
  });
  new Gauge({
    name: 'reten_outbox_oldest_age_seconds',
    help: 'Age of the oldest committed event revision not yet published (0 when none waits)',
    registers: [registry],
    async collect() {
      try {
        this.set((await lag()).oldestAgeSeconds);
      } catch {
        // leave the last value; /readyz reports the database problem
      }
    },
  });
}
