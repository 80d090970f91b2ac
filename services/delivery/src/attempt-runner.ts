import { randomUUID } from 'node:crypto';
import type { Logger } from '@reten/observability';
import type { CircuitBreaker } from './circuit-breaker';
import type { DeliveryStore } from './delivery-store';
import type { DeliveryRow, Endpoint } from './endpoint';
import type { EndpointCache } from './endpoint-cache';
import type { DeliveryMetrics } from './metrics';
import type { EndpointRateLimiter } from './rate-limiter';
import { requestHeaders } from './request-headers';
import { decide } from './retry-policy';
import type { AttemptResult } from './retry-policy';
import type { RetryScheduler } from './retry-scheduler';
import type { WebhookSender } from './sender';

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
  cache: EndpointCache;
  sender: WebhookSender;
  limiter: EndpointRateLimiter;
  scheduler: RetryScheduler;
  breaker: CircuitBreaker;
  metrics: DeliveryMetrics;
  log: Logger;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One attempt of one delivery: rate-limit slot, signed POST, then the retry policy's
 * decision recorded. A retry is published (and confirmed) before the row says `retrying`,
 * under a fresh token, so a crash at any point leaves either the old message or the new one
 * able to act on the row, never neither.
 */
export class AttemptRunner {
  constructor(
    private readonly deps: AttemptRunnerDeps,
    private readonly options: AttemptRunnerOptions,
  ) {}

  async run(row: DeliveryRow, token: string, endpoint: Endpoint, body: string): Promise<void> {
    const { store, limiter, sender, metrics } = this.deps;
    if (!endpoint.enabled) {
      await store.markFailed(row, token, 'endpoint disabled');
      metrics.outcomes.inc({ status: 'failed' });
      return;
    }
    const blockedMs = this.deps.breaker.blockedForMs(endpoint.id);
    if (blockedMs > 0) {
      // circuit open: the endpoint failed too often in a row; wait without an attempt
      await this.defer(row, token, body, Math.max(blockedMs, 100), 'circuit_open');
      return;
    }
    const slot = await limiter.reserve(endpoint.id, endpoint.rateLimitPerSecond);
    if (!slot.granted) {
      // over the rate: waits in a tier, not counted as an attempt
      await this.defer(row, token, body, Math.max(slot.waitMs, 100), 'rate_limit');
      return;
    }
    if (slot.waitMs >= 1) await sleep(slot.waitMs);
    const now = new Date();
    const headers = requestHeaders(endpoint, row, body, this.options.userAgent, now);
    const result = await sender.send(endpoint.id, endpoint.url, headers, body);
    this.deps.breaker.record(endpoint.id, result.succeeded);
    metrics.attempts.inc({ result: result.succeeded ? 'succeeded' : (result.phase ?? 'status') });
    metrics.attemptLatency.observe(result.latencyMs / 1000);
    await this.record(row, token, endpoint, body, result);
  }

  /** Moves a delivery to a retry tier without an attempt (rate limit, full backlog). */
  async defer(
    row: DeliveryRow,
    token: string,
    body: string,
    delayMs: number,
    reason: 'rate_limit' | 'backlog' | 'circuit_open',
  ): Promise<void> {
    const next = randomUUID();
    const dueAt = Date.now() + delayMs;
    await this.deps.scheduler.schedule([
      { deliveryId: row.id, tenantId: row.tenantId, token: next, dueAt, body: Buffer.from(body) },
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
  ): Promise<void> {
    const { store, scheduler, metrics, log } = this.deps;
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
      const next = randomUUID();
      const dueAt = Date.now() + decision.delayMs;
      await scheduler.schedule([
        { deliveryId: row.id, tenantId: row.tenantId, token: next, dueAt, body: Buffer.from(body) },
      ]);
      recorded = await store.recordAttempt(row, token, result, {
        status: 'retrying',
        token: next,
        nextAttemptAt: new Date(dueAt),
      });
      metrics.outcomes.inc({ status: 'retrying' });
    } else {
      const status = decision.kind === 'succeeded' ? 'succeeded' : 'failed';
      recorded = await store.recordAttempt(row, token, result, {
        status,
        token: null,
        nextAttemptAt: null,
      });
      metrics.outcomes.inc({ status });
    }
    if (recorded === undefined) {
      log.info({ deliveryId: row.id }, 'attempt of a superseded delivery message not recorded');
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

  /** Disables the endpoint once, with `reten.endpoint.disabled` in the event log. */
  private async disable(endpoint: Endpoint, reason: string): Promise<void> {
    const { store, cache, metrics, log } = this.deps;
    if (!(await store.disableEndpoint(endpoint.id, reason))) return;
    cache.invalidate(endpoint.tenantId);
    metrics.endpointsDisabled.inc();
    log.warn({ endpointId: endpoint.id, reason }, 'webhook endpoint disabled');
  }
}
