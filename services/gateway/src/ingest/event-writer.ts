import { RetenError } from '@reten/contracts';
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

function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith(DATA_EXCEPTION_CLASS);
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
      this.metrics.ingestBatchSize.observe(batch.length);
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length > 1 && isDataException(err)) {
        // one row's content broke the batch: write each alone so only that one fails
        for (const p of batch) await this.flush([p]);
        return;
      }
      const failure = isDataException(err)
        ? new RetenError('validation_failed', 'The event data cannot be stored', [
            { path: 'body', message: (err as Error).message },
          ])
        : new RetenError(
            'service_unavailable',
            'The event could not be stored; nothing was accepted, retry',
          );
      if (!isDataException(err))
        this.log.error({ err, events: batch.length }, 'event batch insert failed');
      for (const p of batch) p.reject(failure);
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
