import type { z } from 'zod';
import type { Logger, Registry, TraceInfo } from '@reten/observability';
import type { PoolClient } from '@reten/store';

/** One event revision as an eworker's handler receives it, `data` parsed by its schema. */
export interface EworkerEvent<D> {
  id: string;
  type: string;
  revision: number;
  tenantId: string;
  /** When the event happened (the envelope's `timestamp`). */
  timestamp: Date;
  /** The event's position in the gateway's log (`x-reten-seq`), as a decimal string. */
  seq: string;
  data: D;
}

/** What a handler gets besides the event. */
export interface EworkerContext {
  /**
   * A client inside the open PostgreSQL transaction: the handler's writes and the
   * "processed" mark commit together (or not at all). Do not COMMIT or ROLLBACK it.
   */
  db: PoolClient;
  /** 1 on the first try, then 2, 3… while the handler keeps throwing. */
  attempt: number;
  log: Logger;
  /** The eworker's Prometheus registry, for the eworker's own metrics. */
  registry: Registry;
  /** Runs `fn` once the transaction committed (e.g. to count what was stored). */
  afterCommit(fn: () => void): void;
  /**
   * The W3C trace context of this handling: the `eworker handle` span, a child of the event's
   * trace (the producer's request). Send `trace.traceparent` (and `tracestate`) on outgoing
   * calls to continue the trace; the span is also OpenTelemetry's active span during `handle`.
   */
  trace: TraceInfo;
}

/** An eworker: its name, the event types it handles and what valid data of them looks like. */
export interface EworkerDefinition<S extends z.ZodType = z.ZodType> {
  /** Lower-case letters, digits and `-`; names the queue `reten.eworker.<name>`. */
  name: string;
  types: readonly string[];
  /** Registered as JSON Schema: the gateway answers 422 to events whose data does not match. */
  schema: S;
  /** Handles one event; throwing makes the SDK retry it (order kept), then park it. */
  handle: (event: EworkerEvent<z.output<S>>, ctx: EworkerContext) => Promise<void>;
}

/** Declares an eworker (typed `data` from the zod schema); run it with `runEworker`. */
export function defineEworker<S extends z.ZodType>(
  definition: EworkerDefinition<S>,
): EworkerDefinition<S> {
  return definition;
}
