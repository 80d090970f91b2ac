import { Counter, Gauge, Histogram, LAG_BUCKETS_SECONDS } from '@reten/observability';
import type { Registry } from '@reten/observability';

export interface StreamMetrics {
  connections: Gauge;
  messagesOut: Counter;
  slowClientsDropped: Counter;
  fanoutLatency: Histogram;
  streamLag: Histogram;
  backfillEvents: Counter;
  upgradesRefused: Counter<'reason'>;
  clientErrors: Counter;
  redisPublished: Counter;
  redisResyncs: Counter;
  badQueueMessages: Counter;
}

/** The stream service's series, registered on `registry`. */
export function createStreamMetrics(registry: Registry): StreamMetrics {
  return {
    connections: new Gauge({
      name: 'reten_stream_connections',
      help: 'Open WebSocket connections on this replica',
      registers: [registry],
    }),
    messagesOut: new Counter({
      name: 'reten_stream_messages_out_total',
      help: 'Events sent to WebSocket clients (live and backfill)',
      registers: [registry],
    }),
    slowClientsDropped: new Counter({
      name: 'reten_stream_slow_clients_dropped_total',
      help: 'Clients closed with 4008 because their send buffer was full',
      registers: [registry],
    }),
    fanoutLatency: new Histogram({
      name: 'reten_stream_fanout_latency_seconds',
      help: 'From the Redis PUBLISH of an event to its send to the last live client of this replica',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    streamLag: new Histogram({
      name: 'reten_stream_lag_seconds',
      help: 'From the acceptance of an event to its send to the live clients of this replica',
      buckets: [...LAG_BUCKETS_SECONDS],
      registers: [registry],
    }),
    backfillEvents: new Counter({
      name: 'reten_stream_backfill_events_total',
      help: 'Events sent from PostgreSQL to resuming clients',
      registers: [registry],
    }),
    upgradesRefused: new Counter({
      name: 'reten_stream_upgrades_refused_total',
      help: 'WebSocket upgrades answered with an HTTP error, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'reten_stream_client_errors_total',
      help: 'Invalid client messages answered with an error frame',
      registers: [registry],
    }),
    redisPublished: new Counter({
      name: 'reten_stream_redis_published_total',
      help: 'Events this replica published to Redis as the active reten.stream consumer',
      registers: [registry],
    }),
    redisResyncs: new Counter({
      name: 'reten_stream_redis_resyncs_total',
      help: 'Redis subscriber reconnects after which clients were resumed from PostgreSQL',
      registers: [registry],
    }),
    badQueueMessages: new Counter({
      name: 'reten_stream_bad_queue_messages_total',
      help: 'reten.stream messages without tenant or stream position headers (acked and dropped, logged)',
      registers: [registry],
    }),
  };
}
