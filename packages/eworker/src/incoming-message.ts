import type { ConsumeMessage } from 'amqplib';
import type { z } from 'zod';
import { EWORKER_REPLAY_HEADER, EventEnvelopeSchema, MESSAGE_HEADERS } from '@reten/contracts';
import type { EworkerEvent } from './define-eworker';

/** Who an event revision is, as far as a message tells: enough to mark it failed. */
export interface MessageIdentity {
  eventId: string;
  revision: number;
  tenantId: string;
  type: string;
}

export type ParsedMessage<D> =
  | { ok: true; event: EworkerEvent<D>; replay: boolean }
  | { ok: false; error: string; identity: MessageIdentity | undefined };

function headerString(headers: Record<string, unknown>, name: string): string | undefined {
  const v = headers[name];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

/** The identity from messageId `<event_id>:<revision>` and the tenant header, if present. */
function identityOf(msg: ConsumeMessage): MessageIdentity | undefined {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const tenantId = headerString(headers, MESSAGE_HEADERS.tenant);
  const messageId: unknown = msg.properties.messageId;
  if (typeof messageId !== 'string' || !tenantId) return undefined;
  const m = /^(evt_[0-9A-Z]{26}):(\d{1,9})$/.exec(messageId);
  if (!m?.[1] || !m[2]) return undefined;
  // a replay arrives through the default exchange (routing key = queue): prefer the type property
  const type: unknown = msg.properties.type;
  return {
    eventId: m[1],
    revision: Number(m[2]),
    tenantId,
    type: typeof type === 'string' && type !== '' ? type : msg.fields.routingKey,
  };
}

/**
 * Parses a message from `reten.events` (or a replay) into the event a handler gets. Anything
 * that does not fit (not JSON, not an envelope, no tenant, data not valid for the schema) is
 * an error to park, never a reason to stop.
 */
export function parseMessage<S extends z.ZodType>(
  msg: ConsumeMessage,
  schema: S,
): ParsedMessage<z.output<S>> {
  const identity = identityOf(msg);
  const fail = (error: string): ParsedMessage<z.output<S>> => ({ ok: false, error, identity });
  if (!identity) return fail('message has no valid messageId <event_id>:<revision> or tenant');
  let body: unknown;
  try {
    body = JSON.parse(msg.content.toString('utf8'));
  } catch {
    return fail('message body is not JSON');
  }
  const envelope = EventEnvelopeSchema.safeParse(body);
  if (!envelope.success) return fail('message body is not an event envelope');
  const e = envelope.data;
  if (e.event_id !== identity.eventId || e.revision !== identity.revision) {
    return fail('messageId does not match the envelope');
  }
  const data = schema.safeParse(e.data);
  if (!data.success) {
    const issue = data.error.issues[0];
    const where = issue ? ['data', ...issue.path.map(String)].join('.') : 'data';
    return fail(`event data does not match the eworker schema: ${where}: ${issue?.message ?? ''}`);
  }
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  return {
    ok: true,
    replay: headers[EWORKER_REPLAY_HEADER] !== undefined,
    event: {
      id: e.event_id,
      type: e.event_type,
      revision: e.revision,
      tenantId: identity.tenantId,
      timestamp: new Date(e.timestamp),
      seq: headerString(headers, MESSAGE_HEADERS.seq) ?? '',
      data: data.data,
    },
  };
}
