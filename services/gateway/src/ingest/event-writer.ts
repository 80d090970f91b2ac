import { RetenError } from '@reten/contracts';
import { isNotConnectedError } from '@reten/store';
import type { EventStore, IdempotencyCompletion, NewEventRow } from '@reten/store';
import type { Logger } from '@reten/observability';
import type { GatewayMetrics } from '../metrics';

interface Pending {
  row: NewEventRow;
  completion: IdempotencyCompletion | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface EventWriterOptions {
  maxBatch: number;
  maxConcurrentFlushes: number;
}

const DATA_EXCEPTION_CLASS = '22';
/** How long a write whose connection broke is looked up before its outcome counts as unknown. */
const OUTCOME_LOOKUP_MS = 3_000;
const OUTCOME_LOOKUP_RETRY_MS = 200;

function errorCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

function isDataException(err: unknown): boolean {
  const code = errorCode(err);
  return typeof code === 'string' && code.startsWith(DATA_EXCEPTION_CLASS);
}

/**
 * Whether the batch surely did not commit: PostgreSQL answered with an error (a SQLSTATE: the
 * statement was rolled back), or no connection was made. Anything else (the connection broke
 * or timed out after the statement went out) leaves the commit's outcome unknown.
 */
function surelyNotCommitted(err: unknown): boolean {
  const code = errorCode(err);
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return true;
  return isNotConnectedError(err);
}

/**
 * Group commit: concurrent requests are written together in one transaction, so a commit
 * costs one fsync for many events. A caller's promise resolves only after its row is
 * committed (202 means durable). No timer: whatever queued while a flush ran goes next.
 */
export class EventWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private waking = false;
  private wakeAgain = false;

  constructor(
    private readonly store: EventStore,
    private readonly options: EventWriterOptions,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  /** Resolves once the row (and its Idempotency-Key completion) is committed. */
  write(row: NewEventRow, completion?: IdempotencyCompletion): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, completion, resolve, reject });
      this.pump();
    });
  }

  /** Resolves when nothing is queued or being written. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxConcurrentFlushes) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.flush(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
        if (this.queue.length === 0 && this.inFlight === 0) {
          for (const wake of this.idleWaiters.splice(0)) wake();
        }
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      await this.insert(batch);
      this.wakeRelay();
      this.metrics.ingestBatchSize.observe(batch.length);
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length > 1 && isDataException(err)) {
        // one row's content broke the batch: write each alone so only that one fails
        for (const p of batch) await this.flush([p]);
        return;
      }
      if (isDataException(err)) {
        const failure = new RetenError('validation_failed', 'The event data cannot be stored', [
          { path: 'body', message: (err as Error).message },
        ]);
        for (const p of batch) p.reject(failure);
        return;
      }
      this.log.error({ err, events: batch.length }, 'event batch insert failed');
      const outcome = surelyNotCommitted(err) ? 'absent' : await this.lookUp(batch);
      if (outcome === 'stored') {
        this.log.warn({ events: batch.length }, 'event batch found committed after its error');
        this.wakeRelay();
        this.metrics.ingestBatchSize.observe(batch.length);
        for (const p of batch) p.resolve();
        return;
      }
      const failure =
        outcome === 'absent'
          ? new RetenError(
              'service_unavailable',
              'The event could not be stored; nothing was accepted, retry',
            )
          : new RetenError(
              'commit_outcome_unknown',
              'The database connection broke while the event was being committed: it may be stored. Retry with the same Idempotency-Key',
            );
      for (const p of batch) p.reject(failure);
    }
  }

  /**
   * Tells the relay (any process) that events were committed: a NOTIFY after the commit, not in
   * its transaction (PostgreSQL serialises notifying commits cluster-wide). One at a time: the
   * commits made while one is on its way get one more after it, so every commit is followed
   * by a NOTIFY sent after it. A lost one costs latency only: the relay polls.
   */
  private wakeRelay(): void {
    if (this.waking) {
      this.wakeAgain = true;
      return;
    }
    this.waking = true;
    this.store
      .wakeRelay()
      .catch((err: unknown) => this.log.debug({ err }, 'relay wake failed: the relay polls'))
      .finally(() => {
        this.waking = false;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wakeRelay();
        }
      });
  }

  /**
   * After the connection broke mid-commit: is the batch stored? Found = committed (the batch is
   * one statement, all or none). Not found is no proof (the statement may still be running on
   * the server), and a database that does not answer proves nothing either: both are unknown.
   */
  private async lookUp(batch: Pending[]): Promise<'stored' | 'unknown'> {
    const rows = batch.map((p) => ({ tenantId: p.row.tenantId, eventId: p.row.eventId }));
    const deadline = Date.now() + OUTCOME_LOOKUP_MS;
    for (;;) {
      try {
        const stored = await this.store.storedEventIds(rows);
        return stored.size === rows.length ? 'stored' : 'unknown';
      } catch {
        if (Date.now() + OUTCOME_LOOKUP_RETRY_MS > deadline) return 'unknown';
        await new Promise((resolve) => setTimeout(resolve, OUTCOME_LOOKUP_RETRY_MS));
      }
    }
  }

  private async insert(batch: Pending[]): Promise<void> {
    const completions: IdempotencyCompletion[] = [];
    for (const p of batch) if (p.completion) completions.push(p.completion);
    await this.store.insertBatch(
      batch.map((p) => p.row),
      completions,
    );
  }
}
