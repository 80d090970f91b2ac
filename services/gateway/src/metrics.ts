import { Counter, Histogram } from '@reten/observability';
import type { Registry } from '@reten/observability';
import { createRelayMetrics } from '@reten/relay';

/**
 * The gateway's own series (request durations are recorded by @reten/http), and the relay's,
 * which it runs in-process unless `RELAY_ENABLED=false`.
 */
export function createGatewayMetrics(registry: Registry) {
  return {
    eventsAccepted: new Counter({
      name: 'reten_events_accepted_total',
      help: 'Events (and revisions) committed and answered 2xx, by API',
      labelNames: ['api'] as const,
      registers: [registry],
    }),
    ingestBatchSize: new Histogram({
      name: 'reten_ingest_batch_size',
      help: 'Events per group-commit transaction',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
    ...createRelayMetrics(registry),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
