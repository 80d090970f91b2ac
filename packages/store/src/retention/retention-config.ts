import { boolVar, ConfigError, intVar } from '@reten/config';
import { DEFAULT_PARTITION_SECONDS } from './partitions';
import type { RetentionOptions } from './retention-runner';

const DAY = 86_400;
const MAX = 10 * 365 * DAY;

/** The partition size: read by the migrate command and by the runner (the gateway). */
export const retentionPartitionConfig = {
  // a week: statements that cannot be pruned to one partition (a delivery by its id, the relay's
  // rows by seq) plan, lock and probe every partition, so fewer and larger ones keep them cheap
  RETENTION_PARTITION_SECONDS: intVar(
    DEFAULT_PARTITION_SECONDS,
    1,
    30 * DAY,
    'Time span of each partition of the partitioned tables (events, marks, client-log lines, deliveries, attempts); retention drops whole partitions, so data outlives its period by up to this',
  ),
};

/** A tenant without its own events period keeps events this long (gateway and stream). */
export const retentionEventsDefaultConfig = {
  RETENTION_EVENTS_DEFAULT_SECONDS: intVar(
    30 * DAY,
    1,
    MAX,
    'How long events are kept for a tenant without its own period (`events_retention_seconds` of PATCH /api/v1/tenant/limits)',
  ),
};

/** Every retention setting of the gateway, which runs the retention runner. */
export const retentionConfig = {
  ...retentionPartitionConfig,
  ...retentionEventsDefaultConfig,
  RETENTION_EVENTS_MIN_SECONDS: intVar(
    3600,
    1,
    MAX,
    'Shortest events period a tenant may set for itself',
  ),
  RETENTION_EVENTS_MAX_SECONDS: intVar(
    365 * DAY,
    1,
    MAX,
    'Longest events period a tenant may set for itself',
  ),
  RETENTION_ATTEMPTS_SECONDS: intVar(
    30 * DAY,
    1,
    MAX,
    'How long webhook deliveries and their attempts are kept (keep it above the retry schedule)',
  ),
  RETENTION_MARKS_SECONDS: intVar(
    30 * DAY,
    1,
    MAX,
    "How long eworkers' processed marks (their dedupe memory) are kept, by the event's creation time",
  ),
  RETENTION_CLIENT_LOG_SECONDS: intVar(
    30 * DAY,
    1,
    MAX,
    'How long client-log lines are kept, by the creation time of their event',
  ),
  RETENTION_IDEMPOTENCY_SECONDS: intVar(
    DAY,
    1,
    MAX,
    'Longest an Idempotency-Key record is kept (an expired one goes at the next run)',
  ),
  RETENTION_INTERVAL_SECONDS: intVar(
    300,
    1,
    DAY,
    'How often the retention runner runs (one gateway replica at a time); partitions are made max(2 partitions, 3 intervals) ahead',
  ),
  RETENTION_ENABLED: boolVar(
    true,
    'Run the retention runner in this gateway (partitions ahead, expired data removed)',
  ),
  RETENTION_LOCK_TIMEOUT_MS: intVar(
    2000,
    10,
    60_000,
    'lock_timeout of each partition create or drop: past it the statement gives up, the next run retries',
  ),
  RETENTION_BATCH_ROWS: intVar(
    1000,
    1,
    100_000,
    'Rows per DELETE where rows go one by one (tenants with a shorter events period, Idempotency-Key records)',
  ),
};

/** At most this many DELETE batches per kind in one run; the next run goes on. */
const MAX_BATCHES_PER_RUN = 100;

/** The numeric retention settings of a parsed config. */
export type RetentionSettings = {
  [K in Exclude<keyof typeof retentionConfig, 'RETENTION_ENABLED'>]: number;
};

/** The runner's options from a parsed config; a ConfigError when min > max. */
export function retentionOptionsOf(config: RetentionSettings): RetentionOptions {
  const min = config.RETENTION_EVENTS_MIN_SECONDS;
  const max = config.RETENTION_EVENTS_MAX_SECONDS;
  // the bounds limit what a tenant may choose; the operator's default may lie outside them
  if (min > max) {
    throw new ConfigError([
      `RETENTION_EVENTS_MIN_SECONDS: must not exceed RETENTION_EVENTS_MAX_SECONDS (${max}) (got ${min})`,
    ]);
  }
  return {
    periods: {
      eventsDefaultSeconds: config.RETENTION_EVENTS_DEFAULT_SECONDS,
      attemptsSeconds: config.RETENTION_ATTEMPTS_SECONDS,
      marksSeconds: config.RETENTION_MARKS_SECONDS,
      clientLogSeconds: config.RETENTION_CLIENT_LOG_SECONDS,
      idempotencySeconds: config.RETENTION_IDEMPOTENCY_SECONDS,
    },
    partitionSeconds: config.RETENTION_PARTITION_SECONDS,
    intervalSeconds: config.RETENTION_INTERVAL_SECONDS,
    lockTimeoutMs: config.RETENTION_LOCK_TIMEOUT_MS,
    batchRows: config.RETENTION_BATCH_ROWS,
    maxBatchesPerRun: MAX_BATCHES_PER_RUN,
  };
}
