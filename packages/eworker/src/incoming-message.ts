import type { ConsumeMessage } from 'amqplib';
import type { z } from 'zod';
import { decodeEventMessage, messageIdentity } from '@reten/broker';
import type { MessageIdentity } from '@reten/broker';
import type { TraceParentInput } from '@reten/observability';
import type { EworkerEvent } from './define-eworker';

export type ParsedMessage<D> =
  | { ok: true; event: EworkerEvent<D>; replay: boolean; trace: TraceParentInput }
  | { ok: false; error: string; identity: MessageIdentity | undefined };

/**
 * Parses a message from `reten.events` (or a replay) into the event a handler gets. Anything
 * that does not fit (not JSON, not an envelope, no tenant, data not valid for the schema) is
 * an error to park, never a reason to stop.
 */
export function parseMessage<S extends z.ZodType>(
  msg: ConsumeMessage,
  schema: S,
): ParsedMessage<z.output<S>> {
  const identity = messageIdentity(msg);
  const fail = (error: string): ParsedMessage<z.output<S>> => ({ ok: false, error, identity });
  if (!identity) return fail('message has no valid messageId <event_id>:<revision> or tenant');
  const decoded = decodeEventMessage(msg);
  if (!decoded.ok) return fail(`message ${decoded.error}`);
  const e = decoded.envelope;
  if (e.event_id !== identity.eventId || e.revision !== identity.revision) {
    return fail('messageId does not match the envelope');
  }
  const data = schema.safeParse(e.data);
  if (!data.success) {
    const issue = data.error.issues[0];
    const where = issue ? ['data', ...issue.path.map(String)].join('.') : 'data';
    return fail(`event data does not match the eworker schema: ${where}: ${issue?.message ?? ''}`);
  }
  return {
    ok: true,
    replay: decoded.headers.replay,
    trace: { traceparent: decoded.headers.traceparent, tracestate: decoded.headers.tracestate },
    event: {
      id: e.event_id,
      type: e.event_type,
      revision: e.revision,
      tenantId: identity.tenantId,
      timestamp: new Date(e.timestamp),
      seq: decoded.headers.seq ?? '',
      data: data.data,
    },
  };
}
