import { Counter, Gauge, Histogram, LAG_BUCKETS_SECONDS } from '@reten/observability';
import type { Registry } from '@reten/observability';

/** The delivery service's own series; `queued` reads the lanes at scrape time. */
export function createDeliveryMetrics(registry: Registry, queued: () => number = () => 0) {
  return {
    attempts: new Counter({
      name: 'reten_webhook_attempts_total',
      help: 'Webhook attempts by result (succeeded, or the failed phase)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    attemptLatency: new Histogram({
      name: 'reten_webhook_attempt_duration_seconds',
      help: 'Duration of webhook attempts',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
      registers: [registry],
    }),
    // no endpoint label: endpoints are created by tenants without bound, and a series per
    // endpoint would grow Prometheus with them (as for every series here); an endpoint's own
    // figures are in the API's stats and timeline
    deliveryLag: new Histogram({
      name: 'reten_webhook_delivery_lag_seconds',
      help: 'Time from the acceptance of an event to the end of its first attempt to an endpoint (attempt="first") and to its successful delivery (attempt="final"); manual retries and replays left out',
      labelNames: ['attempt'] as const,
      buckets: [...LAG_BUCKETS_SECONDS],
      registers: [registry],
    }),
    outcomes: new Counter({
      name: 'reten_webhook_deliveries_total',
      help: 'Deliveries that reached a state: succeeded, retrying, failed',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    deferred: new Counter({
      name: 'reten_webhook_deferred_total',
      help: 'Deliveries moved to a retry tier without an attempt, by reason (rate_limit, backlog, circuit_open; early: a retry message that arrived before its row held its token, back 100 ms later), or held in PostgreSQL behind an earlier delivery of their ordering key (key_held)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    endpointsDisabled: new Counter({
      name: 'reten_webhook_endpoints_disabled_total',
      help: 'Endpoints disabled by the delivery service (410 Gone, failing too long)',
      registers: [registry],
    }),
    lanes: new Gauge({
      name: 'reten_delivery_lane_jobs',
      help: 'Deliveries running or waiting in the endpoint lanes of this process',
      registers: [registry],
      collect() {
        this.set(queued());
      },
    }),
    rateLimitFailOpen: new Gauge({
      name: 'reten_rate_limit_fail_open',
      help: '1 while the rate limiter cannot reach Redis and deliveries go without a limit',
      registers: [registry],
    }),
    countDeltasCompacted: new Counter({
      name: 'reten_webhook_count_deltas_compacted_total',
      help: 'Rows of webhook_count_deltas (one per batch of attempt outcomes) added to the endpoints’ counts',
      registers: [registry],
    }),
    tombstoneRowsSwept: new Counter({
      name: 'reten_webhook_tombstone_rows_swept_total',
      help: 'Delivery rows and attempts of deleted endpoints deleted by the tombstone sweep (stored by a batch that found the endpoint just before its deletion)',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'reten_delivery_errors_total',
      help: 'Internal errors by kind (handle, record, rate_limiter, dispatch, poison, attempt_not_stored, count_compaction, tombstone_sweep); retried or parked',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type DeliveryMetrics = ReturnType<typeof createDeliveryMetrics>;
