import {
  SPAN_NAMES,
  SpanKind,
  endSpan,
  runWithSpan,
  startStageSpan,
  traceInfoOf,
} from '@reten/observability';
import type { Logger, Registry, TraceParentInput } from '@reten/observability';
import type { Pool } from '@reten/store';
import type { EworkerDefinition, EworkerEvent } from './define-eworker';
import { claimForProcessing } from './marks-store';

export type BatchOutcome =
  | {
      kind: 'committed';
      processed: number;
      skipped: number;
      /** Indexes of the items handled now (the others were done before). */
      handled: number[];
    }
  /** The handler threw at `index`: nothing of the batch was committed. */
  | { kind: 'handler-failed'; index: number; error: string }
  /** A handler swallowed a SQL error and left the transaction aborted: nothing committed. */
  | { kind: 'aborted' }
  /** The channel the messages came on closed: nothing committed, they will be redelivered. */
  | { kind: 'channel-lost' };

/** One event of a batch and the trace context its message carried. */
export interface BatchItem {
  event: EworkerEvent<unknown>;
  trace: TraceParentInput;
}

export interface BatchDeps {
  pool: Pool;
  definition: EworkerDefinition;
  log: Logger;
  registry: Registry;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 2000);
}

/**
 * Handles `events` in order in ONE transaction: claims them (writes their processed marks,
 * skipping revisions already done), runs the handler for each claimed one, commits. The
 * handlers' writes and the marks commit together or not at all. Throws only on
 * infrastructure errors (PostgreSQL); a throwing handler is an outcome.
 */
export async function runBatch(
  deps: BatchDeps,
  items: readonly BatchItem[],
  attempt: number,
  channelAlive: () => boolean,
): Promise<BatchOutcome> {
  const { definition } = deps;
  const db = await deps.pool.connect();
  let open = false;
  let broken: Error | undefined;
  // a checked-out client whose connection dies emits 'error' (the pool only listens on idle
  // ones): record it so the client is discarded; the failing query rejects on its own
  const onError = (err: Error): void => {
    broken = err;
  };
  db.on('error', onError);
  try {
    await db.query('BEGIN');
    open = true;
    const claimed = await claimForProcessing(
      db,
      definition.name,
      items.map(({ event: e }) => ({
        eventId: e.id,
        revision: e.revision,
        tenantId: e.tenantId,
        type: e.type,
      })),
      attempt,
    );
    const afterCommit: (() => void)[] = [];
    const handled: number[] = [];
    for (const [index, { event, trace }] of items.entries()) {
      if (!claimed.delete(`${event.id}:${event.revision}`)) continue; // done before, or twice in this batch
      // a child of the event's stored trace context: the producer's request continues here
      const span = startStageSpan(SPAN_NAMES.eworkerHandle, trace, {
        kind: SpanKind.CONSUMER,
        attributes: {
          'reten.eworker': definition.name,
          'reten.event_id': event.id,
          'reten.event_type': event.type,
          'reten.attempt': attempt,
        },
      });
      try {
        await runWithSpan(span, () =>
          definition.handle(event, {
            db,
            attempt,
            log: deps.log,
            registry: deps.registry,
            afterCommit: (fn) => afterCommit.push(fn),
            trace: traceInfoOf(span),
          }),
        );
        endSpan(span);
      } catch (err) {
        endSpan(span, err);
        // the database connection died under the handler: an outage, not a handler failure
        if (broken) throw err;
        await db.query('ROLLBACK');
        open = false;
        return { kind: 'handler-failed', index, error: errorText(err) };
      }
      handled.push(index);
    }
    if (!channelAlive()) {
      // another replica now owns these messages: committing could reorder them
      await db.query('ROLLBACK');
      open = false;
      return { kind: 'channel-lost' };
    }
    const commit = await db.query('COMMIT');
    open = false;
    if (commit.command === 'ROLLBACK') return { kind: 'aborted' };
    for (const fn of afterCommit) {
      try {
        fn();
      } catch (err) {
        deps.log.warn({ err, eworker: definition.name }, 'afterCommit callback threw');
      }
    }
    const processed = handled.length;
    return { kind: 'committed', processed, skipped: items.length - processed, handled };
  } catch (err) {
    if (open) await db.query('ROLLBACK').catch(() => undefined);
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    // a client that failed mid-transaction is discarded, not returned to the pool
    db.off('error', onError);
    db.release(broken);
  }
}
