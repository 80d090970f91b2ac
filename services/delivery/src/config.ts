import { z } from 'zod';
import {
  boolVar,
  httpConfig,
  intVar,
  loadConfig,
  logConfig,
  postgresConfig,
  rabbitConfig,
  redisConfig,
  tracingConfig,
} from '@reten/config';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from './retry-policy';

/** Every variable the delivery service reads, with its default and meaning. */
export const deliveryConfigShape = {
  PORT: intVar(8082, 0, 65535, 'HTTP port of /healthz, /readyz and /metrics'),
  ...httpConfig,
  ...logConfig,
  ...postgresConfig,
  ...rabbitConfig,
  ...redisConfig,
  ...tracingConfig,
  WEBHOOK_ALLOW_PRIVATE: boolVar(
    false,
    'Deliver to loopback/private/link-local addresses (local stack and tests only)',
  ),
  DELIVERY_PREFETCH: intVar(
    600,
    1,
    10_000,
    'Unacked messages the consumer holds at once: a message holds its place from its arrival through its request and its stored outcome to its ack, so deliveries per second stay under this divided by that time (tens of ms on a busy host); more only pays when that time is the bound',
  ),
  DELIVERY_MAX_IN_FLIGHT: intVar(256, 1, 10_000, 'HTTP requests in flight in total'),
  DELIVERY_ENDPOINT_MAX_IN_FLIGHT: intVar(
    100,
    1,
    1000,
    'Most HTTP requests in flight per endpoint, whatever its rate limit: a hard ceiling (1: first attempts without a key start one at a time, in publish order; deliveries of one ordering key go one at a time whatever this is)',
  ),
  DELIVERY_ENDPOINT_MIN_IN_FLIGHT: intVar(
    20,
    1,
    1000,
    'HTTP requests in flight every endpoint may have, whatever its rate limit (up to DELIVERY_ENDPOINT_MAX_IN_FLIGHT), and all an endpoint gets while its last attempt failed; 20 lets an endpoint at the default 100/s reach it against a receiver answering in up to about 200 ms',
  ),
  DELIVERY_ENDPOINT_LATENCY_MS: intVar(
    200,
    1,
    60_000,
    "Receiver response time an endpoint's rate limit is sized for: an endpoint may have ceil(rate_limit_per_second × this / 1000) requests in flight, between DELIVERY_ENDPOINT_MIN_IN_FLIGHT and DELIVERY_ENDPOINT_MAX_IN_FLIGHT",
  ),
  DELIVERY_ENDPOINT_BACKLOG_MAX: intVar(
    100,
    1,
    100_000,
    'Deliveries queued in memory per endpoint; beyond, the consumer waits for room or defers them to a retry tier',
  ),
  DELIVERY_BACKLOG_WAIT_MS: intVar(
    2_000,
    0,
    600_000,
    'Longest time the consumer holds a message for a full endpoint lane, waiting for room, before deferring it (flow control)',
  ),
  DELIVERY_BACKLOG_DEFER_MS: intVar(
    1000,
    100,
    3_600_000,
    'How long a delivery deferred by a full endpoint backlog waits (not an attempt)',
  ),
  DELIVERY_TIMEOUT_MS: intVar(
    15_000,
    100,
    120_000,
    'Whole-attempt timeout: a 2xx must arrive (headers and body) within it',
  ),
  DELIVERY_CONNECT_TIMEOUT_MS: intVar(5_000, 100, 60_000, 'TCP/TLS connect timeout'),
  DELIVERY_RETRY_SCHEDULE_SECONDS: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'must be comma-separated seconds, e.g. 0,5,30')
    .default(DEFAULT_RETRY_SCHEDULE_SECONDS.join(','))
    .describe(
      'Default delay in seconds before each attempt (first usually 0); endpoints may override',
    ),
  DELIVERY_RETRY_JITTER_PERCENT: intVar(
    20,
    0,
    100,
    'Random spread of each retry delay (± percent)',
  ),
  DELIVERY_RETRY_AFTER_MAX_SECONDS: intVar(
    3600,
    0,
    86_400,
    'Cap on a receiver’s Retry-After (429/503) before the next attempt',
  ),
  DELIVERY_DISABLE_AFTER_SECONDS: intVar(
    5 * 86_400,
    1,
    365 * 86_400,
    'An endpoint failing every attempt for this long is disabled (with a reason and an event)',
  ),
  DELIVERY_BREAKER_FAILURES: intVar(
    10,
    1,
    100_000,
    'Failed attempts in a row after which an endpoint’s circuit opens (per process)',
  ),
  DELIVERY_BREAKER_COOLDOWN_MS: intVar(
    30_000,
    100,
    3_600_000,
    'How long an open circuit holds an endpoint’s deliveries (not attempts) before one trial',
  ),
  DELIVERY_RATE_LIMIT_MAX_WAIT_MS: intVar(
    2_000,
    0,
    600_000,
    'Longest in-process wait for a rate-limit slot; longer waits go to a retry tier (not an attempt)',
  ),
  DELIVERY_RECORD_BATCH_MS: intVar(
    10,
    0,
    1_000,
    'Longest time an attempt’s outcome waits for others to share its PostgreSQL statement (after the request: delays its message’s ack and the API’s view of it, not the webhook); 0: stored in the next event-loop turn',
  ),
  DELIVERY_COUNT_COMPACT_MS: intVar(
    1_000,
    100,
    60_000,
    'How often the endpoints’ attempt counts are compacted from the rows each outcome batch adds (webhook_count_deltas; the API adds what is not compacted yet, so this does not delay what it shows)',
  ),
  DELIVERY_RATE_LIMIT_LEASE_MS: intVar(
    10,
    0,
    1_000,
    'Window of an endpoint’s rate-limit slots a replica reserves in one Redis call, handing them to its later attempts itself (limits above one request per window only); another replica may wait up to this long for a slot; 0: each call reserves only the slots of the attempts waiting',
  ),
  DELIVERY_RATE_LIMIT_BATCH_MS: intVar(
    5,
    0,
    1_000,
    'Shortest time between two of a replica’s rate-limit calls to Redis: the attempts that ask meanwhile share the next call (fewer round trips under load, at up to this much longer before an attempt starts; a replica calling less often waits for nothing); 0: the next event-loop turn',
  ),
  DELIVERY_ENDPOINT_CACHE_MS: intVar(
    10_000,
    0,
    3_600_000,
    'How long endpoints are cached per tenant (a NOTIFY invalidates at once)',
  ),
  DELIVERY_DISPATCH_POLL_MS: intVar(
    2_000,
    10,
    600_000,
    'Polling fallback of the manual-retry / replay dispatcher when no NOTIFY arrives',
  ),
  DELIVERY_CONFIRM_TIMEOUT_MS: intVar(
    10_000,
    100,
    600_000,
    'How long a retry publish waits for the broker confirm',
  ),
};

export type DeliveryConfig = ReturnType<typeof loadDeliveryConfig>;

/** Parses the delivery service's environment; throws ConfigError naming each bad variable. */
export function loadDeliveryConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(deliveryConfigShape, env);
}

/** `0,5,30` → [0, 5000, 30000]. */
export function parseScheduleMs(value: string): number[] {
  return value.split(',').map((s) => Math.round(Number(s) * 1000));
}
