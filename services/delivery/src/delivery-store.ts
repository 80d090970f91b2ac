import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import {
  createPool,
  DeliveryAttemptRepo,
  DeliveryDispatchQueue,
  SystemEventStore,
  WebhookEndpointRepo,
} from '@reten/store';
import type {
  AttemptOutcome,
  DispatchItem,
  EnsureItem,
  PoolOptions,
  RecordItem,
} from '@reten/store';
import type { AttemptResult } from './retry-policy';
import type { DeliveryRow, Endpoint } from './endpoint';
import { MicroBatch } from './micro-batch';

export type { AttemptOutcome, DispatchItem };

const BATCH_MAX = 200;
/**
 * Statements of one kind (ensure, record) running at once: calls made meanwhile wait and go in
 * the next, larger batch, so a busy service makes fewer statements and commits per event. One
 * (was two): each statement costs PostgreSQL a fixed part (executor start over the partitions,
 * commit) that a larger batch shares; measured in the delivery bench, the service's backends
 * spent ~15-35 % less CPU per event, its own process ~5-10 % less, and the added latency at
 * 200 events/s did not grow.
 */
const BATCH_IN_FLIGHT = 1;
/** Distinct statement texts prepared by name; texts past it are sent unnamed. */
const PREPARED_MAX = 64;

/**
 * Planner settings of the connections that run the delivery rows' statements (ensure, record,
 * reads and updates by id). Each statement is prepared once per connection, and PostgreSQL
 * keeps the plan it made at the sixth execution. A service that starts on empty tables (a new
 * install, a new partition) makes that plan for tables of a few rows: it hashes every row of
 * the delivery partitions for each batch (a sequential scan), and keeps doing so as they grow,
 * until autovacuum analyzes them. Measured on fresh tables, batches of 10: PostgreSQL's CPU per
 * delivery rose from ~340 µs to ~1,900 µs over the first 30,000 deliveries, while with this
 * setting it stayed at ~130 µs (`BENCH_PG_FRESH=1 node bench/delivery/pg-cost.js`). Every
 * statement on these connections finds its rows by an index (by id, or by endpoint, event and
 * revision); where no index applies, PostgreSQL still scans. Hash joins stay allowed: the
 * statements join their own CTEs, and nested loops there would cost O(batch²) (measured: the
 * record statement ~49 → ~78 µs per delivery at batches of 200 with hash joins off too).
 */
export const HOT_PATH_PLANNER_SETTINGS: Readonly<Record<string, string>> = {
  enable_seqscan: 'off',
};

/**
 * Connections of the hot-path pool: each batched statement (the read of stored rows, ensure,
 * record, and the first attempts' insert) runs one at a time (BATCH_IN_FLIGHT), plus the
 * occasional read or update by id of a retry.
 */
export const HOT_PATH_POOL_SIZE = 5;

/** The pool of DeliveryStore's hot path: its own connections, with HOT_PATH_PLANNER_SETTINGS. */
export function createHotPathPool(
  options: Omit<PoolOptions, 'max' | 'settings'> & { max?: number },
): Pool {
  return createPool({
    ...options,
    max: options.max ?? HOT_PATH_POOL_SIZE,
    settings: { ...HOT_PATH_PLANNER_SETTINGS },
  });
}

/**
 * The pool as the attempt repository sees it: each of its statements is prepared once per
 * connection (a named statement) instead of being parsed and planned on every call; the
 * hot-path statements are long, and the delivery service runs them for every batch.
 */
export function preparingPool(pool: Pool): Pool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < PREPARED_MAX) {
      name = `reten_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, name);
    }
    return name;
  };
  const query = (text: unknown, values?: unknown) => {
    const name = typeof text === 'string' ? nameOf(text) : undefined;
    return name === undefined
      ? pool.query(text as never, values as never)
      : pool.query({ name, text: text as string, values: values as unknown[] });
  };
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'query') return query;
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

/**
 * The delivery service's reads and writes, over the repositories of `@reten/store` that own
 * the webhook tables. What it adds: concurrent calls of each batched kind (the read of stored
 * rows, ensure, record, the first attempts' insert) share one statement, and a first attempt of
 * a row not stored yet (`row.unsaved`) is stored with one insert.
 */
export class DeliveryStore {
  private readonly endpoints: WebhookEndpointRepo;
  private readonly attempts: DeliveryAttemptRepo;
  private readonly queue: DeliveryDispatchQueue;
  private readonly systemEvents: SystemEventStore;
  private readonly ensureBatch = new MicroBatch<EnsureItem, DeliveryRow[]>(
    (items) => this.attempts.ensureMany(items),
    BATCH_MAX,
    BATCH_IN_FLIGHT,
  );
  private readonly existingBatch = new MicroBatch<EnsureItem, DeliveryRow[]>(
    (items) => this.attempts.existingMany(items),
    BATCH_MAX,
    BATCH_IN_FLIGHT,
  );
  private readonly recordBatch: MicroBatch<RecordItem, { failingSince: Date | null } | undefined>;
  private readonly recordFirstBatch: MicroBatch<
    RecordItem,
    { failingSince: Date | null } | undefined
  >;

  /**
   * `hotPool` runs the delivery rows' statements (see createHotPathPool); the other reads and
   * writes go to `pool`. `recordBatchMs`: how long an attempt's outcome may wait for others to
   * share its statement (see DELIVERY_RECORD_BATCH_MS); 0: the next turn of the event loop.
   */
  constructor(pool: Pool, schema: string, hotPool: Pool = pool, recordBatchMs = 0) {
    this.endpoints = new WebhookEndpointRepo(pool);
    this.attempts = new DeliveryAttemptRepo(preparingPool(hotPool));
    this.recordBatch = new MicroBatch(
      (items) => this.attempts.recordMany(items),
      BATCH_MAX,
      BATCH_IN_FLIGHT,
      recordBatchMs,
    );
    this.recordFirstBatch = new MicroBatch(
      (items) => this.attempts.recordFirstMany(items),
      BATCH_MAX,
      BATCH_IN_FLIGHT,
      recordBatchMs,
    );
    this.queue = new DeliveryDispatchQueue(pool);
    this.systemEvents = new SystemEventStore(pool, schema);
  }

  /** Every endpoint of a tenant, enabled or not. */
  endpointsOf(tenantId: string): Promise<Endpoint[]> {
    return this.endpoints.endpointsOf(tenantId);
  }

  /**
   * The delivery rows of one event revision to these endpoints, created when missing
   * (idempotent: a redelivered message finds the rows it created before). Concurrent calls
   * share one statement.
   */
  ensureDeliveries(
    tenantId: string,
    event: EnsureItem['event'],
    endpointIds: string[],
  ): Promise<DeliveryRow[]> {
    return this.ensureBatch.call({ tenantId, event, endpointIds });
  }

  /**
   * The delivery rows stored already of one event revision to these endpoints (a read; see
   * `DeliveryRow.unsaved` for the endpoints it finds none of). Concurrent calls share one
   * statement.
   */
  existingDeliveries(
    tenantId: string,
    event: EnsureItem['event'],
    endpointIds: string[],
  ): Promise<DeliveryRow[]> {
    return this.existingBatch.call({ tenantId, event, endpointIds });
  }

  /**
   * The stored row of a delivery whose first attempt went out before it had one
   * (`row.unsaved`): inserted now under the id the attempt used, or the row stored meanwhile
   * by another copy of the message (by endpoint, event and revision); undefined when its
   * endpoint was deleted. Concurrent calls share one statement with ensureDeliveries.
   */
  async saveRow(row: DeliveryRow): Promise<DeliveryRow | undefined> {
    const rows = await this.ensureBatch.call({
      tenantId: row.tenantId,
      event: {
        eventId: row.eventId,
        revision: row.revision,
        eventType: row.eventType,
        seq: row.eventSeq,
      },
      endpointIds: [row.endpointId],
      ids: [row.id],
    });
    // neither inserted nor found: its endpoint was deleted (with the endpoint's rows)
    return rows[0];
  }

  delivery(id: string): Promise<DeliveryRow | undefined> {
    return this.attempts.delivery(id);
  }

  /**
   * Stores an attempt and its outcome, and keeps the endpoint's failure run: returns since when
   * it has been failing (null after a success). When the row no longer holds `expectedToken`
   * (taken over by a newer message) only the attempt is stored, and the result is undefined.
   * Safe to repeat after a lost answer. Concurrent calls share one statement.
   */
  async recordAttempt(
    row: DeliveryRow,
    expectedToken: string | null,
    result: AttemptResult,
    outcome: AttemptOutcome,
  ): Promise<{ failingSince: Date | null } | undefined> {
    if (!row.unsaved) return this.recordBatch.call({ row, expectedToken, result, outcome });
    // one insert of the row as the attempt left it (the common case: one write per delivery)
    const first = await this.recordFirstBatch.call({ row, expectedToken, result, outcome });
    if (first !== undefined) return first;
    // the row exists (another copy of the message, a slow request's row, a lost answer to an
    // earlier try of this call): the attempt is stored on it as on any stored row; an endpoint
    // deleted meanwhile has no row left to store it on
    const saved = await this.saveRow(row);
    if (saved === undefined) return undefined;
    return this.recordBatch.call({ row: saved, expectedToken, result, outcome });
  }

  /** Moves a row to a new token without an attempt (deferred by backlog or rate limit). */
  reschedule(
    row: DeliveryRow,
    expectedToken: string | null,
    token: string,
    nextAttemptAt: Date,
  ): Promise<boolean> {
    return this.attempts.reschedule(row, expectedToken, token, nextAttemptAt);
  }

  /** Ends a delivery without an attempt (its endpoint is disabled). */
  markFailed(row: DeliveryRow, expectedToken: string | null, reason: string): Promise<void> {
    return this.attempts.markFailed(row, expectedToken, reason);
  }

  /**
   * Disables an endpoint and emits `reten.endpoint.disabled` with it. Returns true when this
   * call disabled it (the event exists once).
   */
  disableEndpoint(endpointId: string, reason: string): Promise<boolean> {
    return this.systemEvents.disableEndpoint(endpointId, reason);
  }

  /**
   * Takes up to `limit` deliveries queued by the API (manual retry, replay) in event order and
   * hands them to `publish` inside the transaction that clears their request: if publishing
   * fails, they stay queued.
   */
  dispatch(limit: number, publish: (items: DispatchItem[]) => Promise<void>): Promise<number> {
    return this.queue.dispatch(limit, publish);
  }
}
