import { encodeEventMessage } from '@reten/broker';
import type { ConfirmPublisher } from '@reten/broker';
import type { EventStore } from '@reten/store';
import {
  SPAN_NAMES,
  SpanKind,
  endSpan,
  lagSeconds,
  startStageSpan,
  tracingExports,
} from '@reten/observability';
import type { Logger } from '@reten/observability';
import type { RelayMetrics } from './metrics';
import type { LeaderLock } from './leader-lock';
import { WakeSignal } from './wake-signal';

export interface RelayOptions {
  batchSize: number;
  /** Stored data bytes per confirm round (past the first event), bounding the relay's memory. */
  batchMaxBytes: number;
  pollIntervalMs: number;
  lockRetryMs: number;
  confirmTimeoutMs: number;
  retryDelayMs: number;
  /** While leading: no batch published and the outbox never seen empty for this long = stalled. */
  stallAfterMs: number;
  /**
   * After a round that did not fill a batch, the pause before the next one: under load, each
   * round then carries the commits of this long instead of one or two (its queries, publish and
   * confirm cost the same for 1 or 500 events); an idle relay still publishes at once.
   */
  lingerMs?: number;
}

/**
 * Publishes committed, unpublished events to `reten.events` in `seq` order.
 * Invariant: only the holder of the leader lock publishes, so publish order = seq order.
 * A batch is marked published only after every message of it was confirmed; a crash in
 * between republishes it (consumers dedupe on event id and revision).
 *
 * A round whose events cannot have been published before carries `x-reten-first-publish` (so
 * the delivery service need not look for an earlier copy's delivery rows): one that follows a
 * round this leader published and marked itself, with no failed publish in between, and that
 * starts at least `confirmTimeoutMs` after it took the lock (a leader that lost the lock
 * without noticing yet may still have a round in flight until then). The first round after
 * taking the lock, and every round after a failure, go without it.
 */
export class OutboxRelay {
  private readonly wakeSignal = new WakeSignal();
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** When this relay last published a batch or found nothing to publish (epoch ms). */
  private lastProgressAt = Date.now();
  /** The last round was published and marked by this leader, and nothing failed since. */
  private clean = false;
  /** Before this (epoch ms), no round is a first publish (see the class comment). */
  private firstPublishFrom = Infinity;

  constructor(
    private readonly store: EventStore,
    private readonly publisher: ConfirmPublisher,
    private readonly lock: LeaderLock,
    private readonly options: RelayOptions,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
  ) {
    lock.on('notify', () => this.wakeSignal.wake());
    lock.on('lost', () => this.wakeSignal.wake());
  }

  /** Wakes the relay now (new events committed, broker reconnected). */
  wake(): void {
    this.wakeSignal.wake();
  }

  get active(): boolean {
    return this.lock.isHeld;
  }

  /**
   * Why this relay counts as stalled, for `/readyz`: it leads, yet has neither published nor
   * found the outbox empty for `stallAfterMs`. Measured from the clock, not from the loop, so a
   * loop stuck on an await that never settles is reported too.
   */
  stallProblem(now = Date.now()): string | undefined {
    if (!this.lock.isHeld) return undefined;
    const idleMs = now - this.lastProgressAt;
    if (idleMs <= this.options.stallAfterMs) return undefined;
    return `no relay progress for ${Math.round(idleMs / 1000)} s with events waiting`;
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!(await this.lock.tryAcquire())) {
          this.metrics.relayActive.set(0);
          await this.wakeSignal.wait(this.options.lockRetryMs);
          continue;
        }
        this.metrics.relayActive.set(1);
        this.lastProgressAt = Date.now();
        await this.publishWhileLeader();
      } catch (err) {
        this.metrics.relayErrors.inc();
        this.log.warn({ err }, 'relay round failed');
        await this.wakeSignal.wait(this.options.retryDelayMs);
      }
    }
    this.metrics.relayActive.set(0);
  }

  private async publishWhileLeader(): Promise<void> {
    this.log.info('relay active');
    // the previous leader may have published beyond its last mark
    this.clean = false;
    this.firstPublishFrom = Date.now() + this.options.confirmTimeoutMs;
    while (!this.stopping && this.lock.isHeld) {
      if (!this.publisher.ready) {
        await this.wakeSignal.wait(this.options.retryDelayMs);
        continue;
      }
      const rows = await this.store.unpublished(this.options.batchSize, this.options.batchMaxBytes);
      if (rows.length === 0) {
        this.lastProgressAt = Date.now();
        await this.wakeSignal.wait(this.options.pollIntervalMs);
        continue;
      }
      // one span per event, a child of its stored trace context; only while spans are exported
      const spans = tracingExports()
        ? rows.map((r) =>
            startStageSpan(SPAN_NAMES.relayPublish, r, {
              kind: SpanKind.PRODUCER,
              attributes: { 'reten.event_id': r.eventId, 'reten.event_type': r.eventType },
            }),
          )
        : [];
      const firstPublish = this.clean && Date.now() >= this.firstPublishFrom;
      try {
        await this.publisher.publishBatch(
          rows.map((r) => encodeEventMessage(r, firstPublish)),
          this.options.confirmTimeoutMs,
        );
        for (const span of spans) endSpan(span);
      } catch (err) {
        // some of them may have reached the broker: the retry republishes them
        this.clean = false;
        for (const span of spans) endSpan(span, err);
        this.metrics.relayErrors.inc();
        this.log.warn(
          { err: (err as Error).message, events: rows.length },
          'publish failed, will retry',
        );
        await this.wakeSignal.wait(this.options.retryDelayMs);
        continue;
      }
      if (!this.lock.isHeld) return; // lost leadership mid-batch: the next leader republishes
      // rows come in position order, each positioned: the last one's marks the whole batch
      await this.store.markPublishedThrough(rows[rows.length - 1]!.streamPosition!);
      this.clean = true;
      const now = Date.now();
      this.lastProgressAt = now;
      const { relayPublishLatency, publishLag } = this.metrics;
      for (const r of rows) {
        const lag = lagSeconds(r.receivedAt.getTime(), now);
        relayPublishLatency.observe(lag);
        publishLag.observe(lag);
      }
      this.metrics.eventsPublished.inc(rows.length);
      const linger = this.options.lingerMs ?? 0;
      if (linger > 0 && rows.length < this.options.batchSize && !this.stopping) {
        await new Promise((resolve) => setTimeout(resolve, linger));
      }
    }
  }

  /**
   * Stops publishing, waits for the current round (at most `deadlineMs`), releases the lock.
   * A round stuck on a server that stopped answering is abandoned: releasing the lock's session
   * lets the next leader republish whatever this one had not marked published.
   */
  async stop(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.stopping = true;
    this.wakeSignal.wake();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    const outcome = await Promise.race([this.loop, late]);
    clearTimeout(timer);
    if (outcome === 'late') this.log.warn({ deadlineMs }, 'relay round abandoned at stop');
    await this.lock.release(Math.max(0, deadline - Date.now()));
  }
}
