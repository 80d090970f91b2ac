import { setTimeout as delay } from 'node:timers/promises';
import {
  SPAN_NAMES,
  SpanKind,
  endSpan,
  lagSeconds,
  startStageSpan,
  traceHeadersOf,
} from '@reten/observability';
import type { Logger, TraceParentInput } from '@reten/observability';
import type { CircuitBreaker } from './circuit-breaker';
import type { DeliveryStore } from './delivery-store';
import type { DeliveryRow, Endpoint } from './endpoint';
import type { EndpointCache } from './endpoint-cache';
import type { KeyOrder, OrderingKeyOf } from './key-order';
import type { DeliveryMetrics } from './metrics';
import type { OutageLog } from './outage-log';
import type { EndpointRateLimiter } from './rate-limiter';
import { RecentAttempts } from './recent-attempts';
import { requestHeaders } from './request-headers';
import { decide } from './retry-policy';
import type { AttemptResult } from './retry-policy';
import type { RetryScheduler } from './retry-scheduler';
import { successorToken } from './tokens';
import type { WebhookSender } from './sender';

/**
 * The event's W3C trace context, and when it was accepted (epoch ms, what the delivery lag
 * histogram measures from; absent for manual retries and replays), carried with its deliveries
 * through every retry.
 */
export type EventTrace = TraceParentInput & { receivedAtMs?: number | undefined };

export interface AttemptRunnerOptions {
  defaultScheduleMs: number[];
  jitterPercent: number;
  retryAfterMaxMs: number;
  disableAfterMs: number;
  backlogDeferMs: number;
  userAgent: string;
}

export interface AttemptRunnerDeps {
  store: DeliveryStore;
  /** Per-key order: holds a delivery behind an earlier one of its key, releases the next. */
  keyOrder: KeyOrder;
  cache: EndpointCache;
  sender: WebhookSender;
  limiter: EndpointRateLimiter;
  scheduler: RetryScheduler;
  breaker: CircuitBreaker;
  metrics: DeliveryMetrics;
  log: Logger;
  /** Says once when outcomes cannot be stored (database or broker down), and when they can again. */
  outcomeStore: OutageLog;
}

const PERSIST_BACKOFF_MAX_MS = 5_000;

/**
 * How long a first attempt may be in flight before its row is stored (as `pending`, so the API
 * shows a slow or hanging request); a quicker one stores its row once, with its outcome.
 */
export const UNSAVED_IN_FLIGHT_MS = 1_000;
const UNSAVED_SWEEP_MS = 250;

/** Thrown when the runner stops while an attempt's outcome is still not stored. */
export class OutcomeNotStoredError extends Error {
  constructor() {
    super('attempt outcome not stored before shutdown');
    this.name = 'OutcomeNotStoredError';
  }
}

/** The trace headers of a retry message: the event's context, passed on unchanged. */
function traceFields(trace: EventTrace): {
  traceparent?: string;
  tracestate?: string;
  receivedAtMs?: number;
} {
  return {
    ...(trace.traceparent ? { traceparent: trace.traceparent } : {}),
    ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    ...(trace.receivedAtMs === undefined ? {} : { receivedAtMs: trace.receivedAtMs }),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One attempt of one delivery: rate-limit slot, signed POST, then the retry policy's
 * decision recorded. A retry is published (and confirmed) before the row says `retrying`,
 * under a fresh token, so a crash at any point leaves either the old message or the new one
 * able to act on the row, never neither.
 *
 * Invariant: once a request has left the process, its outcome is stored before the job ends
 * (failed writes are retried in place, the request is never sent again because of them); the
 * only exception is `stop()` during an outage, which logs the request it could not store.
 */
export class AttemptRunner {
  private readonly stopping = new AbortController();
  private readonly recent = new RecentAttempts();
  /** First attempts in flight whose row is not stored, oldest first: id → row, start. */
  private readonly unsavedInFlight = new Map<string, { row: DeliveryRow; since: number }>();
  private unsavedSweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: AttemptRunnerDeps,
    private readonly options: AttemptRunnerOptions,
  ) {}

  /** Ends the retries of outcomes still not stored (shutdown after the drain deadline). */
  stop(): void {
    this.stopping.abort();
    clearInterval(this.unsavedSweep);
    this.unsavedSweep = undefined;
  }

  /** Resolves once no attempt of this delivery runs in this process: its row is current then. */
  settled(deliveryId: string): Promise<void> {
    return this.recent.settled(deliveryId);
  }

  /**
   * Attempts a delivery whose row was read at `readAt`. Attempts of one delivery never overlap
   * in a process, and a row read before another attempt of it ended here is read again.
   */
  run(
    row: DeliveryRow,
    token: string,
    endpoint: Endpoint,
    body: string,
    readAt: number,
    orderingKey: string | null = null,
    trace: EventTrace = {},
    requestEnded: () => void = () => undefined,
  ): Promise<void> {
    // (most deliveries have no attempt running here: no await, and no promise of its own then)
    if (!this.recent.isRunning(row.id)) {
      return this.begin(row, token, endpoint, body, readAt, orderingKey, trace, requestEnded);
    }
    return this.recent
      .settled(row.id)
      .then(() => this.begin(row, token, endpoint, body, readAt, orderingKey, trace, requestEnded));
  }

  /** Starts an attempt once no other attempt of the delivery runs here (see run). */
  private begin(
    row: DeliveryRow,
    token: string,
    endpoint: Endpoint,
    body: string,
    readAt: number,
    orderingKey: string | null,
    trace: EventTrace,
    requestEnded: () => void,
  ): Promise<void> {
    // synchronous from here until start(): no other attempt of this delivery can slip in
    // (a row not stored yet is stored by now if an attempt of it ended here: read it)
    const stale =
      this.recent.mayBeStale(row.id, readAt) ||
      (row.unsaved === true && this.recent.endedLately(row.id));
    const done = this.attempt(row, token, endpoint, body, stale, orderingKey, trace, requestEnded);
    this.recent.start(row.id, done);
    return done;
  }

  private async attempt(
    snapshot: DeliveryRow,
    token: string,
    endpoint: Endpoint,
    body: string,
    stale: boolean,
    orderingKey: string | null,
    trace: EventTrace,
    requestEnded: () => void,
  ): Promise<void> {
    const { store, limiter, sender, metrics, keyOrder } = this.deps;
    let row = snapshot;
    if (stale) {
      const fresh = await store.delivery(row.id);
      if (fresh) {
        if (fresh.token !== token) return; // done or taken over since it was read
        row = fresh;
      } else if (!row.unsaved) {
        return; // deleted since it was read
      }
    }
    const key = orderingKey === null ? undefined : { endpointId: endpoint.id, orderingKey };
    // an earlier delivery of its key to this endpoint is unfinished: wait in PostgreSQL
    if (key && (await keyOrder.hold(row, token, key))) return;
    if (!endpoint.enabled) {
      const current = await this.stored(row, token);
      if (!current) return;
      row = current;
      if (key) await keyOrder.setHoldsKey(row, token, endpoint.onFailure === 'block');
      await store.markFailed(row, token, 'endpoint disabled');
      metrics.outcomes.inc({ status: 'failed' });
      if (key) await this.persistAfter(row, () => keyOrder.release(key));
      return;
    }
    const blockedMs = this.deps.breaker.blockedForMs(endpoint.id);
    if (blockedMs > 0) {
      // circuit open: the endpoint failed too often in a row; wait without an attempt
      await this.defer(row, token, body, Math.max(blockedMs, 100), 'circuit_open', trace);
      return;
    }
    const slot = await limiter.reserve(endpoint.id, endpoint.rateLimitPerSecond);
    if (!slot.granted) {
      // over the rate: waits in a tier, not counted as an attempt
      await this.defer(row, token, body, Math.max(slot.waitMs, 100), 'rate_limit', trace);
      return;
    }
    if (slot.waitMs >= 1) await sleep(slot.waitMs);
    const now = new Date();
    // each attempt is a span of the event's trace; the receiver continues it from `traceparent`
    const span = startStageSpan(SPAN_NAMES.deliveryAttempt, trace, {
      kind: SpanKind.CLIENT,
      attributes: {
        'reten.delivery_id': row.id,
        'reten.event_id': row.eventId,
        'reten.attempt': row.attempts + 1,
      },
    });
    const headers = requestHeaders(endpoint, row, body, this.options.userAgent, now);
    Object.assign(headers, traceHeadersOf(span));
    if (row.unsaved) this.trackUnsaved(row);
    const result = await sender.send(endpoint.id, endpoint.url, headers, body);
    if (row.unsaved) this.unsavedInFlight.delete(row.id);
    // before the lane's next request starts (synchronously, in requestEnded): it must see
    // the circuit this outcome may open
    this.deps.breaker.record(endpoint.id, result.succeeded);
    // the endpoint's lane may start its next request while this outcome is stored
    requestEnded();
    if (result.statusCode !== null)
      span.setAttribute('http.response.status_code', result.statusCode);
    endSpan(span, result.succeeded ? undefined : new Error(result.phase ?? 'status'));
    metrics.attempts.inc({ result: result.succeeded ? 'succeeded' : (result.phase ?? 'status') });
    metrics.attemptLatency.observe(result.latencyMs / 1000);
    if (row.attempts === 0 && trace.receivedAtMs !== undefined) {
      metrics.deliveryLag.observe({ attempt: 'first' }, lagSeconds(trace.receivedAtMs, Date.now()));
    }
    await this.record(row, token, endpoint, body, result, key, trace);
  }

  /** Moves a delivery to a retry tier without an attempt (rate limit, full backlog). */
  async defer(
    row: DeliveryRow,
    token: string,
    body: string,
    delayMs: number,
    reason: 'rate_limit' | 'backlog' | 'circuit_open',
    trace: EventTrace = {},
  ): Promise<void> {
    const current = await this.stored(row, token);
    if (!current) return;
    row = current;
    const next = successorToken(token);
    const dueAt = Date.now() + delayMs;
    await this.deps.scheduler.schedule([
      {
        deliveryId: row.id,
        tenantId: row.tenantId,
        token: next,
        dueAt,
        body: Buffer.from(body),
        ...traceFields(trace),
      },
    ]);
    await this.deps.store.reschedule(row, token, next, new Date(dueAt));
    this.deps.metrics.deferred.inc({ reason });
  }

  private async record(
    row: DeliveryRow,
    token: string,
    endpoint: Endpoint,
    body: string,
    result: AttemptResult,
    key: OrderingKeyOf | undefined,
    trace: EventTrace,
  ): Promise<void> {
    const { store, scheduler, metrics, log, keyOrder } = this.deps;
    const scheduleMs = endpoint.retryScheduleSeconds
      ? endpoint.retryScheduleSeconds.map((s) => s * 1000)
      : this.options.defaultScheduleMs;
    const decision = decide(result, row.attempts + 1, {
      scheduleMs,
      jitterPercent: this.options.jitterPercent,
      retryAfterMaxMs: this.options.retryAfterMaxMs,
    });
    let recorded: { failingSince: Date | null } | undefined;
    if (decision.kind === 'retry') {
      const dueAt = Date.now() + decision.delayMs;
      // a publish whose confirm was lost may still have reached the broker: each try has its
      // own token, and only the one the row ends up holding can act
      const next = await this.persist(result, row, async () => {
        const candidate = successorToken(token);
        await scheduler.schedule([
          {
            deliveryId: row.id,
            tenantId: row.tenantId,
            token: candidate,
            dueAt,
            body: Buffer.from(body),
            ...traceFields(trace),
          },
        ]);
        return candidate;
      });
      recorded = await this.persist(result, row, () =>
        store.recordAttempt(row, token, result, {
          status: 'retrying',
          token: next,
          nextAttemptAt: new Date(dueAt),
        }),
      );
      metrics.outcomes.inc({ status: 'retrying' });
    } else {
      const status = decision.kind === 'succeeded' ? 'succeeded' : 'failed';
      if (key && status === 'failed') {
        // before the row says failed: whether it keeps its key held (`block`) or not (`skip`)
        const holds = endpoint.onFailure === 'block';
        await this.persist(result, row, () => keyOrder.setHoldsKey(row, token, holds));
      }
      recorded = await this.persist(result, row, () =>
        store.recordAttempt(row, token, result, { status, token: null, nextAttemptAt: null }),
      );
      metrics.outcomes.inc({ status });
      if (status === 'succeeded' && recorded !== undefined && trace.receivedAtMs !== undefined) {
        metrics.deliveryLag.observe(
          { attempt: 'final' },
          lagSeconds(trace.receivedAtMs, Date.now()),
        );
      }
      // the next delivery of the key may go now (a new statement: see KeyOrder)
      if (key) await this.persist(result, row, () => keyOrder.release(key));
    }
    if (recorded === undefined) {
      log.info(
        { deliveryId: row.id },
        'attempt of a superseded delivery message (stored in the history only) or of a deleted endpoint',
      );
      return;
    }
    if (decision.kind === 'disable') {
      await this.disable(endpoint, decision.reason);
    } else if (
      recorded.failingSince &&
      Date.now() - recorded.failingSince.getTime() >= this.options.disableAfterMs
    ) {
      await this.disable(
        endpoint,
        `every attempt failed since ${recorded.failingSince.toISOString()}`,
      );
    }
  }

  /**
   * The stored row of a delivery (see DeliveryStore.saveRow for a row not stored yet); undefined
   * when another message holds it by now, or its endpoint was deleted.
   */
  private async stored(row: DeliveryRow, token: string): Promise<DeliveryRow | undefined> {
    if (!row.unsaved) return row;
    const saved = await this.deps.store.saveRow(row);
    return saved?.token === token ? saved : undefined;
  }

  /** Stores the row of this first attempt if its request is still in flight after a while. */
  private trackUnsaved(row: DeliveryRow): void {
    this.unsavedInFlight.set(row.id, { row, since: Date.now() });
    if (this.unsavedSweep !== undefined || this.stopping.signal.aborted) return;
    this.unsavedSweep = setInterval(() => this.saveSlowRows(), UNSAVED_SWEEP_MS);
    this.unsavedSweep.unref();
  }

  private saveSlowRows(): void {
    const due = Date.now() - UNSAVED_IN_FLIGHT_MS;
    // insertion order is start order: stop at the first one still young
    for (const [id, { row, since }] of this.unsavedInFlight) {
      if (since > due) return;
      this.unsavedInFlight.delete(id);
      // the attempt's record finds this row and updates it (so it must look for it: not fresh);
      // failing here only hides it longer
      row.fresh = false;
      this.deps.store.saveRow(row).catch((err: unknown) => {
        this.deps.log.debug({ err, deliveryId: id }, 'row of a slow first attempt not stored');
      });
    }
    clearInterval(this.unsavedSweep);
    this.unsavedSweep = undefined;
  }

  /** Runs a write that follows a stored state change (no request sent) until it succeeds. */
  private async persistAfter<T>(row: DeliveryRow, write: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await write();
      } catch (err) {
        this.deps.metrics.errors.inc({ kind: 'record' });
        if (this.stopping.signal.aborted) throw err;
        this.deps.log.debug({ err, deliveryId: row.id }, 'write after a state change failed');
        const waitMs = Math.min(PERSIST_BACKOFF_MAX_MS, 100 * 2 ** n);
        await delay(waitMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }

  /**
   * Runs a write that follows a request already sent until it succeeds (backoff up to 5 s):
   * the database or the broker being down must not make the request go out again.
   */
  private async persist<T>(
    result: AttemptResult,
    row: DeliveryRow,
    write: () => Promise<T>,
  ): Promise<T> {
    const { outcomeStore, metrics, log } = this.deps;
    for (let n = 0; ; n++) {
      try {
        const out = await write();
        outcomeStore.succeeded();
        return out;
      } catch (err) {
        outcomeStore.failed(err);
        if (this.stopping.signal.aborted) {
          metrics.errors.inc({ kind: 'attempt_not_stored' });
          log.error(
            {
              err,
              deliveryId: row.id,
              startedAt: result.startedAt.toISOString(),
              statusCode: result.statusCode,
              succeeded: result.succeeded,
            },
            'webhook request sent but its outcome not stored before shutdown',
          );
          throw new OutcomeNotStoredError();
        }
        const waitMs = Math.min(PERSIST_BACKOFF_MAX_MS, 100 * 2 ** n);
        await delay(waitMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }

  /** Disables the endpoint once, with `reten.endpoint.disabled` in the event log. */
  private async disable(endpoint: Endpoint, reason: string): Promise<void> {
    const { store, cache, metrics, log } = this.deps;
    if (!(await store.disableEndpoint(endpoint.id, reason))) return;
    cache.invalidate(endpoint.tenantId);
    metrics.endpointsDisabled.inc();
    log.warn({ endpointId: endpoint.id, reason }, 'webhook endpoint disabled');
  }
}
