import { Counter, Gauge } from '@reten/observability';
import type { Registry } from '@reten/observability';

/** The retention runner's series (docs/operations.md, "Retention"). */
export function createRetentionMetrics(registry: Registry) {
  const newestPartitionEnd = new Map<string, number>();
  return {
    runs: new Counter({
      name: 'reten_retention_runs_total',
      help: 'Retention runs by result: done, skipped (another process held the lock), failed',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    interval: new Gauge({
      name: 'reten_retention_interval_seconds',
      help: 'RETENTION_INTERVAL_SECONDS of this process (the alerts compare the last run and the partitions ahead with it)',
      registers: [registry],
    }),
    lastRun: new Gauge({
      name: 'reten_retention_last_run_timestamp_seconds',
      help: 'When this process last completed a retention run (Unix time)',
      registers: [registry],
    }),
    created: new Counter({
      name: 'reten_retention_partitions_created_total',
      help: 'Time partitions created ahead, by table',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'reten_retention_partitions_dropped_total',
      help: 'Expired partitions dropped, by table',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    kept: new Counter({
      name: 'reten_retention_partitions_kept_total',
      help: 'Expired partitions left in place because they hold events not yet published',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    busy: new Counter({
      name: 'reten_retention_lock_timeouts_total',
      help: 'Partition creates or drops left for the next run: their lock was not free within RETENTION_LOCK_TIMEOUT_MS',
      labelNames: ['table', 'step'] as const,
      registers: [registry],
    }),
    rowsRemoved: new Counter({
      name: 'reten_retention_rows_removed_total',
      help: 'Rows removed, by table (a dropped partition counts by the statistics: n_live_tup)',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    bytesRemoved: new Counter({
      name: 'reten_retention_bytes_removed_total',
      help: 'Bytes of dropped partitions (table, indexes and TOAST), by table',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    aheadSeconds: new Gauge({
      name: 'reten_retention_partitions_ahead_seconds',
      help: 'How far past now the newest partition reaches (as of the last run of this process); inserts fail once it is below 0',
      labelNames: ['table'] as const,
      registers: [registry],
      collect() {
        for (const [table, ms] of newestPartitionEnd) {
          this.set({ table }, (ms - Date.now()) / 1000);
        }
      },
    }),
    /** Where the newest partition of each table ends (ms), as of the last run. */
    newestPartitionEnd,
  };
}

export type RetentionMetrics = ReturnType<typeof createRetentionMetrics>;
