import type { ConsumeMessage } from 'amqplib';
import { decodeEventMessage, decodeTargetedMessage, receivedAtMs } from '@reten/broker';
import type { DecodedTargetedMessage } from '@reten/broker';
import { WEBHOOK_TEST_EVENT_TYPE, matchesTypeFilter } from '@reten/contracts';
import { deliveryIdOf } from '@reten/store';
import type { EnsureItem } from '@reten/store';
import type { EventEnvelope } from '@reten/contracts';
import type { AttemptRunner, EventTrace } from './attempt-runner';
import type { BacklogGate } from './backlog-gate';
import type { DeliveryStore } from './delivery-store';
import type { DeliveryRow, Endpoint } from './endpoint';
import { INITIAL_TOKEN } from './endpoint';
import type { EndpointCache } from './endpoint-cache';
import type { EndpointLanes } from './endpoint-lanes';
import { KeyChains } from './key-chains';
import type { DeliveryMetrics } from './metrics';
import type { RetryScheduler } from './retry-scheduler';
import { isSuccessorOf } from './tokens';

/** A message that can never be handled (bad envelope, missing headers): parked, not retried. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

interface Job {
  row: DeliveryRow;
  token: string;
  endpoint: Endpoint;
  /** When `row` was read (`Date.now()` before the query). */
  readAt: number;
  /** The event's ordering key: its deliveries to an endpoint go one at a time, in event order. */
  orderingKey: string | null;
  /** The event's W3C trace context, from the message: each attempt is a span of that trace. */
  trace: EventTrace;
}

/** The `ordering_key` of an envelope as sent (a targeted message's body); null when it has none. */
export function orderingKeyOfBody(body: string): string | null {
  // most envelopes have none: skip the parse
  if (!body.includes('"ordering_key"')) return null;
  const parsed = JSON.parse(body) as { ordering_key?: unknown };
  return typeof parsed.ordering_key === 'string' ? parsed.ordering_key : null;
}

/**
 * Rows not stored yet of an event's first attempts to these endpoints, but those in `skip`;
 * `fresh` when no copy of them can exist yet (see DeliveryRow.fresh).
 */
function unsavedRows(
  tenantId: string,
  event: EnsureItem['event'],
  endpointIds: string[],
  fresh: boolean,
  skip?: Set<string>,
): DeliveryRow[] {
  const rows: DeliveryRow[] = [];
  for (const endpointId of endpointIds) {
    if (skip?.has(endpointId)) continue;
    rows.push({
      id: deliveryIdOf(endpointId, event.eventId, event.revision, event.acceptedAtMs),
      tenantId,
      endpointId,
      eventId: event.eventId,
      revision: event.revision,
      eventType: event.eventType,
      eventSeq: event.seq,
      status: 'pending',
      attempts: 0,
      token: INITIAL_TOKEN,
      unsaved: true,
      fresh,
    });
  }
  return rows;
}

/** How soon a message that arrived before its row was updated to its token comes back. */
const EARLY_RETRY_MS = 100;

/** Deliveries of one key waiting in process behind its running attempt (see KeyChains). */
const CHAIN_MAX_WAITING = 8;

/** The chain a job belongs to: its endpoint and ordering key; undefined without a key. */
function chainKey(job: Job): string | undefined {
  return job.orderingKey === null ? undefined : `${job.endpoint.id} ${job.orderingKey}`;
}

/** Whether an endpoint receives an event: enabled, filters match; test events only to their endpoint. */
export function receives(endpoint: Endpoint, envelope: EventEnvelope): boolean {
  if (!endpoint.enabled) return false;
  if (envelope.event_type === WEBHOOK_TEST_EVENT_TYPE) {
    const data = envelope.data as { webhook_id?: unknown } | null;
    return typeof data === 'object' && data !== null && data.webhook_id === endpoint.id;
  }
  return (
    endpoint.eventTypes.length === 0 ||
    endpoint.eventTypes.some((f) => matchesTypeFilter(envelope.event_type, f))
  );
}

/**
 * Handles one message of `reten.delivery`: an event (fan-out: one delivery row per matching
 * endpoint, first attempts) or a targeted message (one delivery: a retry, a manual retry or
 * a replay). Resolves once every attempt it started is recorded; then it may be acked.
 *
 * Order: messages are prepared concurrently but handed to the endpoint lanes strictly in
 * the order they were consumed, so each endpoint's lane sees first attempts in publish order.
 * A message whose endpoint lane is full holds its turn while the gate lets it wait for room.
 */
export class MessageHandler {
  private turn: Promise<void> = Promise.resolve();
  private readonly chains = new KeyChains(CHAIN_MAX_WAITING);
  /** Messages handled once already (a retry in process may find rows the first try stored). */
  private readonly tried = new WeakSet<ConsumeMessage>();
  /** Set by `stopStarting`: a message reaching its turn from now on sends nothing. */
  private stopping = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly cache: EndpointCache,
    private readonly lanes: EndpointLanes,
    private readonly runner: AttemptRunner,
    private readonly scheduler: RetryScheduler,
    private readonly gate: BacklogGate,
    private readonly backlogDeferMs: number,
    private readonly metrics: DeliveryMetrics,
  ) {}

  /**
   * Graceful stop: from now on a message with requests to make that reaches its turn makes
   * none, and `handle` resolves false for it. Left unacked, it goes back to its queue when the
   * channel closes; turns follow consume order, so the messages left are the last ones consumed
   * and come back in their order. What was handed to the lanes still runs, so a stop waits for
   * the requests begun, not for the whole prefetch window at the endpoints' pace.
   */
  stopStarting(): void {
    this.stopping = true;
  }

  /** Resolves true once the message is done (ack it), false when stopping left it for redelivery. */
  async handle(msg: ConsumeMessage): Promise<boolean> {
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    let started: Promise<void>[] = [];
    try {
      // (no wrapper promise: this runs once per message)
      let prepared: { jobs: Job[]; body: string } | undefined;
      let failure: unknown;
      try {
        prepared = await this.prepare(msg);
      } catch (err) {
        failure = err;
      }
      const dequeue = prepared
        ? this.gate.enqueue(prepared.jobs.map((j) => j.endpoint.id))
        : () => undefined;
      await previous;
      dequeue();
      if (!prepared) throw failure;
      // (a message with no job acts in prepare, if at all: it is done either way)
      if (this.stopping && prepared.jobs.length > 0) return false;
      started = await this.hand(prepared.jobs, prepared.body);
    } finally {
      release();
    }
    // wait for every job before failing, so a retry of this message never races its own jobs
    if (started.length === 1) {
      await started[0];
      return true;
    }
    const results = await Promise.allSettled(started);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return true;
  }

  /**
   * Hands the jobs to their lanes; a job whose lane stays full is deferred to a retry tier.
   * A job whose key has an attempt running here joins its chain instead (see KeyChains).
   */
  private async hand(jobs: Job[], body: string): Promise<Promise<void>[]> {
    const started: Promise<void>[] = [];
    const full: Job[] = [];
    const start = (job: Job, ran: Promise<void>) => {
      const key = chainKey(job);
      if (key !== undefined) this.chains.track(key, ran);
      started.push(ran);
    };
    for (const job of jobs) {
      const key = chainKey(job);
      const before = key === undefined ? undefined : this.chains.waitFor(key);
      if (before) {
        start(
          job,
          before.then(() => this.submit(job, body) || this.deferBacklog(job, body)),
        );
        continue;
      }
      const ran = this.submit(job, body);
      if (ran) start(job, ran);
      else full.push(job);
    }
    if (full.length === 0) return started;
    const rooms = await Promise.all(full.map((job) => this.gate.room(job.endpoint.id)));
    full.forEach((job, i) => {
      const ran = rooms[i] ? this.submit(job, body) : false;
      // still full (slow or dead receiver): wait in a tier, keep the others going
      start(job, ran || this.deferBacklog(job, body));
    });
    return started;
  }

  private deferBacklog(job: Job, body: string): Promise<void> {
    return this.runner.defer(job.row, job.token, body, this.backlogDeferMs, 'backlog', job.trace);
  }

  private submit(job: Job, body: string): Promise<void> | false {
    return this.lanes.submit(
      job.endpoint.id,
      (release) =>
        this.runner.run(
          job.row,
          job.token,
          job.endpoint,
          body,
          job.readAt,
          job.orderingKey,
          job.trace,
          release,
        ),
      job.endpoint.rateLimitPerSecond,
    );
  }

  private async prepare(msg: ConsumeMessage): Promise<{ jobs: Job[]; body: string }> {
    const body = msg.content.toString('utf8');
    const targeted = decodeTargetedMessage(msg);
    if (targeted !== undefined) return { jobs: await this.prepareTargeted(targeted), body };
    const decoded = decodeEventMessage(msg, body);
    if (!decoded.ok) throw new PoisonMessageError(decoded.error);
    const { envelope, headers } = decoded;
    const tenantId = headers.tenantId;
    const select = (all: Endpoint[]) => all.filter((e) => receives(e, envelope));
    // which endpoints receive a type depends on the type only, except for test events
    const found =
      envelope.event_type === WEBHOOK_TEST_EVENT_TYPE
        ? this.cache.forTenant(tenantId).then(select)
        : this.cache.receivers(tenantId, envelope.event_type, select);
    const endpoints = Array.isArray(found) ? found : await found;
    if (endpoints.length === 0) return { jobs: [], body };
    const readAt = Date.now();
    const orderingKey = envelope.ordering_key ?? headers.orderingKey ?? null;
    const acceptedAtMs = receivedAtMs(msg);
    const event = {
      eventId: envelope.event_id,
      revision: envelope.revision,
      eventType: envelope.event_type,
      seq: headers.seq ?? '0',
      orderingKey,
      acceptedAtMs,
    };
    const endpointIds = endpoints.map((e) => e.id);
    // an event with an ordering key has its rows before its first attempts: KeyOrder reads them
    const rows =
      orderingKey !== null
        ? await this.store.ensureDeliveries(tenantId, event, endpointIds)
        : this.firstCopy(msg, headers.firstPublish)
          ? unsavedRows(tenantId, event, endpointIds, true)
          : await this.firstRows(tenantId, event, endpointIds);
    // (one endpoint, the common case: no map)
    const only = endpoints.length === 1 ? endpoints[0] : undefined;
    const byId = only ? undefined : new Map(endpoints.map((e) => [e.id, e]));
    const trace = {
      traceparent: headers.traceparent,
      tracestate: headers.tracestate,
      receivedAtMs: acceptedAtMs,
    };
    const jobs: Job[] = [];
    for (const row of rows) {
      const endpoint = only
        ? only.id === row.endpointId
          ? only
          : undefined
        : byId?.get(row.endpointId);
      // a row another message already took over (retrying, done) is not touched again
      if (endpoint && row.status === 'pending' && row.token === INITIAL_TOKEN) {
        jobs.push({ row, token: INITIAL_TOKEN, endpoint, readAt, orderingKey, trace });
      }
    }
    if (jobs.length > 1) jobs.sort((a, b) => (a.endpoint.id < b.endpoint.id ? -1 : 1));
    return { jobs, body };
  }

  /**
   * Whether this message is the only copy of its event there has been: the relay published it
   * for the first time (`x-reten-first-publish`), the broker did not redeliver it, and this
   * process did not try it before. Then no delivery row of it can exist yet, and none is read.
   */
  private firstCopy(msg: ConsumeMessage, firstPublish: boolean): boolean {
    if (this.tried.has(msg)) return false;
    this.tried.add(msg);
    return firstPublish && !msg.fields.redelivered;
  }

  /**
   * The rows of an event's deliveries to these endpoints for their first attempts: the stored
   * ones (another copy of the message came first), else rows not stored yet (`unsaved`), whose
   * first attempt stores them in one insert, under the id it sends (`deliveryIdOf`).
   */
  private async firstRows(
    tenantId: string,
    event: EnsureItem['event'],
    endpointIds: string[],
  ): Promise<DeliveryRow[]> {
    const rows = await this.store.existingDeliveries(tenantId, event, endpointIds);
    if (rows.length === endpointIds.length) return rows;
    const found = new Set(rows.map((r) => r.endpointId));
    return rows.concat(unsavedRows(tenantId, event, endpointIds, false, found));
  }

  private async prepareTargeted(targeted: DecodedTargetedMessage): Promise<Job[]> {
    const { deliveryId, token, dueAt } = targeted;
    if (token === undefined) throw new PoisonMessageError('targeted message without token');
    if (dueAt - Date.now() > 50) {
      // not due yet: hop through the next tier (delays longer than the largest tier, jitter)
      // everything the message carries goes on with it (the event's trace context among it)
      await this.scheduler.schedule([{ ...targeted, token }]);
      return [];
    }
    // an attempt of this delivery still storing its outcome here would make the row look stale
    await this.runner.settled(deliveryId);
    const readAt = Date.now();
    const row = await this.store.delivery(deliveryId);
    if (row && row.token !== token && isSuccessorOf(token, row.token)) {
      // published (by another replica, maybe) just before the row was updated to it: the
      // update is on its way, so come back shortly instead of dropping the only message
      await this.scheduler.schedule([{ ...targeted, token, dueAt: Date.now() + EARLY_RETRY_MS }]);
      this.metrics.deferred.inc({ reason: 'early' });
      return [];
    }
    if (!row || row.token !== token) return []; // superseded (or deleted): nothing to do
    const endpoint = await this.cache.get(row.tenantId, row.endpointId);
    if (!endpoint) return [];
    let orderingKey: string | null;
    try {
      orderingKey = orderingKeyOfBody(targeted.body.toString('utf8'));
    } catch {
      throw new PoisonMessageError('targeted message body is not JSON');
    }
    const trace = {
      traceparent: targeted.traceparent,
      tracestate: targeted.tracestate,
      receivedAtMs: targeted.receivedAtMs,
    };
    return [{ row, token, endpoint, readAt, orderingKey, trace }];
  }
}
