import type { EventEnvelope } from '@reten/contracts';
import { newEventId } from '@reten/store';
import type { IdempotencyStore } from '@reten/store';
import { SPAN_NAMES, contextWithSpan, endSpan, startStageSpan } from '@reten/observability';
import type { EventWriter } from './event-writer';
import { claimIdempotencyKey } from './idempotency-key';
import { assertNoNulCharacter } from './nul-character';
import type { IngestTrace } from './trace-context';
import type { GatewayMetrics } from '../metrics';

export interface IngestRequest {
  api: 'evci' | 'rest';
  tenantId: string;
  eventType: string;
  data: unknown;
  occurredAt: Date | undefined;
  /** Already validated; undefined when the event has none. */
  orderingKey: string | undefined;
  /** What `ingestTraceOf` decided for the request. */
  trace: IngestTrace | undefined;
  idempotency: { key: string; fingerprint: string } | undefined;
  /** The body answered with 202, built from the stored envelope. */
  render: (envelope: EventEnvelope) => unknown;
}

export interface IngestResult {
  status: number;
  /** The answer's JSON text: a replay answers exactly the bytes of the first answer. */
  bodyJson: string;
  replayed: boolean;
}

/** Checks event data against the schemas eworkers registered for its type (422 when invalid). */
export interface EventDataValidator {
  validate(type: string, data: unknown, location: string): void;
}

/** Accepts one event: validation, Idempotency-Key handling, then a durable group-committed insert. */
export class Ingestor {
  constructor(
    private readonly writer: EventWriter,
    private readonly idempotency: IdempotencyStore,
    private readonly metrics: GatewayMetrics,
    private readonly validator?: EventDataValidator,
  ) {}

  /** 422 `validation_failed` when `data` is invalid for `type`; `location` prefixes the paths. */
  validateData(type: string, data: unknown, location: string): void {
    this.validator?.validate(type, data, location);
  }

  async accept(req: IngestRequest): Promise<IngestResult> {
    const dataJson = JSON.stringify(req.data);
    assertNoNulCharacter(dataJson, 'body');
    // before anything is stored (nor an Idempotency-Key claimed): EVCI's body is the data
    this.validateData(req.eventType, req.data, req.api === 'evci' ? 'body' : 'body.data');
    const idem = req.idempotency;
    if (idem) {
      const claim = await claimIdempotencyKey(
        this.idempotency,
        req.tenantId,
        idem.key,
        idem.fingerprint,
      );
      if (claim.kind === 'replay')
        return { status: claim.status, bodyJson: claim.bodyJson, replayed: true };
    }
    const now = new Date();
    const eventId = newEventId(now.getTime());
    const occurredAt = req.occurredAt ?? now;
    const timestamp = occurredAt.toISOString();
    // the documented key order: ordering_key, when there is one, comes before data
    const envelope: EventEnvelope =
      req.orderingKey === undefined
        ? { event_id: eventId, event_type: req.eventType, timestamp, revision: 1, data: req.data }
        : {
            event_id: eventId,
            event_type: req.eventType,
            timestamp,
            revision: 1,
            ordering_key: req.orderingKey,
            data: req.data,
          };
    const bodyJson = JSON.stringify(req.render(envelope));
    // the group-committed transaction that stores the event (shared with other requests)
    const commit = req.trace?.span?.isRecording()
      ? startStageSpan(SPAN_NAMES.commit, contextWithSpan(req.trace.span))
      : undefined;
    try {
      await this.writer.write(
        {
          tenantId: req.tenantId,
          eventId,
          revision: 1,
          eventType: req.eventType,
          occurredAt,
          dataJson,
          orderingKey: req.orderingKey,
          traceparent: req.trace?.traceparent,
          tracestate: req.trace?.tracestate,
        },
        idem ? { tenantId: req.tenantId, key: idem.key, status: 202, bodyJson } : undefined,
      );
    } catch (err) {
      if (commit) endSpan(commit, err);
      // a commit of unknown outcome may have completed the key: release frees only a key still
      // in progress, and retries in the background while the database is away
      if (idem) await this.idempotency.release(req.tenantId, idem.key).catch(() => undefined);
      throw err;
    }
    if (commit) endSpan(commit);
    if (idem) this.idempotency.finished(req.tenantId, idem.key);
    this.metrics.eventsAccepted.inc({ api: req.api });
    return { status: 202, bodyJson, replayed: false };
  }
}
