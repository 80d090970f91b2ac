import { Client } from 'pg';
import type { ClientConfig, Pool } from 'pg';
import type { Logger, Registry } from '@reten/observability';
import { Partitions } from './partitions';
import type { DroppedPartition, RetentionTable } from './partitions';
import { pruneAttemptCounts } from '../webhooks/attempt-timeline';
import { createRetentionMetrics } from './retention-metrics';
import type { RetentionMetrics } from './retention-metrics';
import { prunePublishedRounds, purgeIdempotencyKeys, purgeTenantEvents } from './row-purge';

/** lock_timeout expired. */
const LOCK_NOT_AVAILABLE = '55P03';
const DEADLOCK_DETECTED = '40P01';

/** How long each kind of data is kept, in seconds. */
export interface RetentionPeriods {
  /** Events of a tenant without a period of its own (tenants.events_retention_seconds). */
  eventsDefaultSeconds: number;
  /** Webhook deliveries and their attempts. */
  attemptsSeconds: number;
  /** Eworkers' processed marks (their dedupe memory). */
  marksSeconds: number;
  clientLogSeconds: number;
  idempotencySeconds: number;
}

export interface PartitionSettings {
  /** Undefined: go on at the size of the newest partition (a week on a fresh database). */
  partitionSeconds: number | undefined;
  /** How often the runner runs; partitions are made far enough ahead to outlast two misses. */
  intervalSeconds: number;
  lockTimeoutMs: number;
}

export interface RetentionOptions extends PartitionSettings {
  partitionSeconds: number;
  periods: RetentionPeriods;
  /** Rows per DELETE statement where rows go one by one (short tenant periods, keys). */
  batchRows: number;
  /** DELETE statements per kind and run at most: a run is bounded, the next one goes on. */
  maxBatchesPerRun: number;
}

/** What one run did; `ran` is false when another process held the runner's lock. */
export interface RetentionReport {
  ran: boolean;
  created: string[];
  dropped: DroppedPartition[];
  /** Expired partitions left in place because they still hold events not yet published. */
  kept: string[];
  eventsDeleted: number;
  idempotencyKeysDeleted: number;
}

/**
 * How far ahead of now partitions of `partitionMs` must reach: two of them, and three runs (the
 * size the partitions have, which a process that does not set it learns from the newest one).
 */
export function partitionsAheadMs(partitionMs: number, intervalSeconds: number): number {
  return Math.max(2 * partitionMs, 3 * intervalSeconds * 1000);
}

/** Creates the partitions every retention table needs from now to the horizon ahead. */
export async function ensurePartitionsAhead(
  pool: Pool,
  schema: string,
  settings: PartitionSettings,
  nowMs: number = Date.now(),
): Promise<string[]> {
  const partitions = new Partitions(pool, schema);
  const created: string[] = [];
  for (const table of await partitions.tables()) {
    created.push(
      ...(await partitions.ensureAhead(
        table,
        nowMs,
        settings.partitionSeconds === undefined ? undefined : settings.partitionSeconds * 1000,
        (partitionMs) => partitionsAheadMs(partitionMs, settings.intervalSeconds),
        settings.lockTimeoutMs,
      )),
    );
  }
  return created;
}

/**
 * The retention maintenance job: every RETENTION_INTERVAL_SECONDS it creates partitions ahead,
 * drops whole partitions past their table's period, and deletes in bounded batches what cannot
 * go by partition (tenants with a shorter events period than the longest one, expired
 * Idempotency-Key records). Every replica runs the timer; a session advisory lock on a
 * connection of its own makes one of them do the work at a time (a dead holder's session, and
 * lock, end with it).
 */
export class RetentionRunner {
  private readonly partitions: Partitions;
  private readonly metrics: RetentionMetrics;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly lockClientConfig: ClientConfig,
    private readonly schema: string,
    private readonly options: RetentionOptions,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.partitions = new Partitions(pool, schema);
    this.metrics = createRetentionMetrics(registry);
    this.metrics.interval.set(options.intervalSeconds);
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .catch((err: unknown) => {
          this.metrics.runs.inc({ result: 'failed' });
          this.log.warn({ err }, 'retention run failed');
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalSeconds * 1000);
          this.timer?.unref();
        });
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress (its statements are bounded). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One run, if this process gets the lock. */
  async runOnce(nowMs: number = Date.now()): Promise<RetentionReport> {
    const report: RetentionReport = {
      ran: false,
      created: [],
      dropped: [],
      kept: [],
      eventsDeleted: 0,
      idempotencyKeysDeleted: 0,
    };
    const lock = new Client(this.lockClientConfig);
    lock.on('error', (err) =>
      this.log.warn({ err: err.message }, 'retention lock connection error'),
    );
    await lock.connect();
    try {
      const got = await lock.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [`reten.retention.${this.schema}`],
      );
      if (got.rows[0]?.locked !== true) {
        this.metrics.runs.inc({ result: 'skipped' });
        return report;
      }
      report.ran = true;
      await this.work(nowMs, report);
      this.metrics.runs.inc({ result: 'done' });
      this.metrics.lastRun.set(Date.now() / 1000);
      if (report.dropped.length > 0 || report.eventsDeleted > 0 || report.kept.length > 0) {
        this.log.info(
          {
            dropped: report.dropped.map((d) => d.partition),
            kept: report.kept,
            eventsDeleted: report.eventsDeleted,
            idempotencyKeysDeleted: report.idempotencyKeysDeleted,
          },
          'retention run',
        );
      }
      return report;
    } finally {
      // ending the session releases the lock
      await lock.end().catch(() => undefined);
    }
  }

  private async work(nowMs: number, report: RetentionReport): Promise<void> {
    const horizon = await this.eventsHorizonSeconds();
    for (const table of await this.partitions.tables()) {
      const created =
        (await this.busyMeansLater(table, 'create', () =>
          this.partitions.ensureAhead(
            table,
            nowMs,
            this.options.partitionSeconds * 1000,
            (partitionMs) => partitionsAheadMs(partitionMs, this.options.intervalSeconds),
            this.options.lockTimeoutMs,
          ),
        )) ?? [];
      if (created.length > 0) this.metrics.created.inc({ table: table.parent }, created.length);
      report.created.push(...created);
      const seconds = this.periodOf(table, horizon);
      if (seconds !== undefined) await this.dropExpired(table, nowMs - seconds * 1000, report);
      const newest = (await this.partitions.list(table))
        .map((p) => p.upperMs ?? 0)
        .reduce((a, b) => Math.max(a, b), 0);
      this.metrics.newestPartitionEnd.set(table.parent, newest);
    }
    const batches = {
      batchRows: this.options.batchRows,
      maxBatches: this.options.maxBatchesPerRun,
    };
    report.eventsDeleted = await purgeTenantEvents(
      this.pool,
      this.options.periods.eventsDefaultSeconds,
      horizon,
      nowMs,
      batches,
    );
    if (report.eventsDeleted > 0) {
      this.metrics.rowsRemoved.inc({ table: 'events' }, report.eventsDeleted);
    }
    report.idempotencyKeysDeleted = await purgeIdempotencyKeys(
      this.pool,
      this.options.periods.idempotencySeconds,
      nowMs,
      batches,
    );
    if (report.idempotencyKeysDeleted > 0) {
      this.metrics.rowsRemoved.inc({ table: 'idempotency_keys' }, report.idempotencyKeysDeleted);
    }
    // the per-minute attempt counts go with the attempts they counted (the totals stay)
    const counts = await pruneAttemptCounts(
      this.pool,
      new Date(nowMs - this.options.periods.attemptsSeconds * 1000),
      batches,
    );
    if (counts > 0) this.metrics.rowsRemoved.inc({ table: 'webhook_attempt_counts' }, counts);
    // the relay's published marks go with the events they dated
    const rounds = await prunePublishedRounds(this.pool, batches);
    if (rounds > 0) this.metrics.rowsRemoved.inc({ table: 'published_rounds' }, rounds);
  }

  /**
   * Event partitions go once no tenant may keep them: at the longest period in use (the
   * default or a tenant's own); tenants with shorter ones lose their older rows by batches.
   */
  private async eventsHorizonSeconds(): Promise<number> {
    const res = await this.pool.query<{ longest: number | null }>(
      'SELECT max(events_retention_seconds) AS longest FROM tenants',
    );
    return Math.max(this.options.periods.eventsDefaultSeconds, res.rows[0]?.longest ?? 0);
  }

  private periodOf(table: RetentionTable, eventsHorizon: number): number | undefined {
    const p = this.options.periods;
    const periods: Record<string, number> = {
      events: eventsHorizon,
      eworker_marks: p.marksSeconds,
      client_log_lines: p.clientLogSeconds,
      webhook_deliveries: p.attemptsSeconds,
      webhook_attempts: p.attemptsSeconds,
    };
    return periods[table.parent];
  }

  /**
   * Runs one DDL step; a lock it could not get within lock_timeout (or a deadlock) is left for
   * the next run, with a log line and a metric, and the run goes on with the other tables.
   * Null when it was left.
   */
  private async busyMeansLater<T>(
    table: RetentionTable,
    step: 'create' | 'drop',
    work: () => Promise<T>,
  ): Promise<T | null> {
    try {
      return await work();
    } catch (err) {
      const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
      if (code !== LOCK_NOT_AVAILABLE && code !== DEADLOCK_DETECTED) throw err;
      this.metrics.busy.inc({ table: table.parent, step });
      this.log.warn({ table: table.parent, step, code }, 'retention step left for the next run');
      return null;
    }
  }

  private async dropExpired(
    table: RetentionTable,
    cutoffMs: number,
    report: RetentionReport,
  ): Promise<void> {
    // an event not yet published is still owed to the broker: 202 means durable
    const keep =
      table.parent === 'events'
        ? '(stream_position IS NULL OR stream_position > reten_published_through())'
        : undefined;
    for (const part of await this.partitions.list(table)) {
      if (part.upperLiteral === undefined || part.upperMs === undefined) continue;
      if (part.upperMs > cutoffMs) continue;
      const dropped = await this.busyMeansLater(table, 'drop', () =>
        this.partitions.drop(table, part.name, keep, this.options.lockTimeoutMs),
      );
      if (dropped === null) continue;
      if (!dropped) {
        report.kept.push(part.name);
        this.metrics.kept.inc({ table: table.parent });
        continue;
      }
      report.dropped.push(dropped);
      this.metrics.dropped.inc({ table: table.parent });
      this.metrics.bytesRemoved.inc({ table: table.parent }, dropped.bytes);
      this.metrics.rowsRemoved.inc({ table: table.parent }, dropped.rows);
    }
  }
}
