import type { Message } from 'amqplib';
import {
  DELIVERY_HEADERS,
  EVENTS_EXCHANGE,
  EWORKER_REPLAY_HEADER,
  EventEnvelopeSchema,
  MESSAGE_HEADERS,
  eventEnvelopeJson,
} from '@reten/contracts';
import type { EnvelopeSource, EventEnvelope } from '@reten/contracts';
import type { OutgoingMessage } from './confirm-publisher';

// The one place that knows what a message carries: the relay, the parked replay, the delivery
// retries and the test publishers encode here, and every consumer decodes here. The header
// names live in @reten/contracts beside the queue names.

/** One event revision as the relay publishes it (the fields of an outbox row). */
export interface EventMessage extends EnvelopeSource {
  tenantId: string;
  /** Its place in the event log. */
  seq: string;
  /** Its place in publish order, what stream resume goes by; absent while not positioned. */
  streamPosition?: string;
  /**
   * When the gateway accepted it: the message's `timestamp` property (seconds, as AMQP has it)
   * and, to the millisecond, the `x-reten-received-at` header.
   */
  receivedAt: Date;
  /** W3C Trace Context the event was accepted under: the `traceparent` / `tracestate` headers. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

type Headers = Record<string, unknown>;

/**
 * The message of one event revision on `reten.events`, routed by its type. `firstPublish`: the
 * relay knows no copy of it was published before (the `x-reten-first-publish` header).
 */
export function encodeEventMessage(m: EventMessage, firstPublish = false): OutgoingMessage {
  return {
    exchange: EVENTS_EXCHANGE,
    routingKey: m.eventType,
    content: Buffer.from(eventEnvelopeJson(m)),
    options: {
      persistent: true,
      contentType: 'application/json',
      messageId: `${m.eventId}:${m.revision}`,
      type: m.eventType,
      timestamp: Math.floor(m.receivedAt.getTime() / 1000),
      headers: {
        [MESSAGE_HEADERS.tenant]: m.tenantId,
        [MESSAGE_HEADERS.revision]: m.revision,
        [MESSAGE_HEADERS.seq]: m.seq,
        [MESSAGE_HEADERS.receivedAt]: m.receivedAt.getTime(),
        ...(m.streamPosition ? { [MESSAGE_HEADERS.streamPosition]: m.streamPosition } : {}),
        ...(m.orderingKey ? { [MESSAGE_HEADERS.orderingKey]: m.orderingKey } : {}),
        ...(m.traceparent ? { [MESSAGE_HEADERS.traceparent]: m.traceparent } : {}),
        ...(m.tracestate ? { [MESSAGE_HEADERS.tracestate]: m.tracestate } : {}),
        ...(firstPublish ? { [MESSAGE_HEADERS.firstPublish]: 1 } : {}),
      },
    },
  };
}

/**
 * The same message sent straight into one queue through the default exchange (other
 * consumers of the type are not disturbed), marked as a replay.
 */
export function encodeEventReplay(m: EventMessage, queue: string): OutgoingMessage {
  const message = encodeEventMessage(m);
  const headers = message.options.headers as Headers;
  return {
    ...message,
    exchange: '',
    routingKey: queue,
    options: { ...message.options, headers: { ...headers, [EWORKER_REPLAY_HEADER]: 1 } },
  };
}

/** A header as text: amqplib hands out strings, numbers, or Buffers for byte arrays. */
function headerString(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

function headersOf(msg: Message): Headers {
  return msg.properties.headers ?? {};
}

/** What the headers and properties of an event message say, read without touching the body. */
export interface EventMessageHeaders {
  tenantId: string | undefined;
  seq: string | undefined;
  streamPosition: string | undefined;
  /** The event's ordering key (also in the envelope); undefined when it has none. */
  orderingKey: string | undefined;
  /** W3C Trace Context the event was accepted under; undefined when none. */
  traceparent: string | undefined;
  tracestate: string | undefined;
  /** The event type: the `type` property, else the routing key (a replay is routed by queue). */
  eventType: string;
  /** Sent by a parked replay rather than by the relay. */
  replay: boolean;
  /**
   * Published by the relay for the first time (`x-reten-first-publish`): no earlier copy of it
   * exists, unless the broker redelivers this one (`fields.redelivered`).
   */
  firstPublish: boolean;
}

export function readEventHeaders(msg: Message): EventMessageHeaders {
  const headers = headersOf(msg);
  const type: unknown = msg.properties.type;
  return {
    tenantId: headerString(headers, MESSAGE_HEADERS.tenant),
    seq: headerString(headers, MESSAGE_HEADERS.seq),
    streamPosition: headerString(headers, MESSAGE_HEADERS.streamPosition),
    orderingKey: headerString(headers, MESSAGE_HEADERS.orderingKey),
    traceparent: headerString(headers, MESSAGE_HEADERS.traceparent),
    tracestate: headerString(headers, MESSAGE_HEADERS.tracestate),
    eventType: typeof type === 'string' && type !== '' ? type : msg.fields.routingKey,
    replay: headers[EWORKER_REPLAY_HEADER] !== undefined,
    firstPublish: headers[MESSAGE_HEADERS.firstPublish] !== undefined,
  };
}

function receivedAtHeader(headers: Headers): number | undefined {
  const ms = Number(headerString(headers, MESSAGE_HEADERS.receivedAt));
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * When the event revision a message carries was accepted (epoch ms): the `x-reten-received-at`
 * header, else the `timestamp` property (whole seconds; a relay older than the header); undefined
 * when neither is there. What the lag histograms measure from.
 */
export function receivedAtMs(msg: Message): number | undefined {
  const header = receivedAtHeader(headersOf(msg));
  if (header !== undefined) return header;
  const seconds: unknown = msg.properties.timestamp;
  return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : undefined;
}

/** Who an event revision is, as far as a message tells without its body. */
export interface MessageIdentity {
  eventId: string;
  revision: number;
  tenantId: string;
  type: string;
}

/** The identity from messageId `<event_id>:<revision>` and the tenant header, if both are valid. */
export function messageIdentity(msg: Message): MessageIdentity | undefined {
  const { tenantId, eventType } = readEventHeaders(msg);
  const messageId: unknown = msg.properties.messageId;
  if (typeof messageId !== 'string' || !tenantId) return undefined;
  const m = /^(evt_[0-9A-Z]{26}):(\d{1,9})$/.exec(messageId);
  if (!m?.[1] || !m[2]) return undefined;
  return { eventId: m[1], revision: Number(m[2]), tenantId, type: eventType };
}

export type DecodedEventMessage =
  | { ok: true; envelope: EventEnvelope; headers: EventMessageHeaders & { tenantId: string } }
  | { ok: false; error: string };

/**
 * Reads an event message: the tenant header and the envelope in the body. Anything that does
 * not fit is an error for the consumer to park, never a reason to stop. `body`: the content as
 * text, when the caller decoded it already.
 */
export function decodeEventMessage(
  msg: Message,
  body: string = msg.content.toString('utf8'),
): DecodedEventMessage {
  const headers = readEventHeaders(msg);
  const tenantId = headers.tenantId;
  if (tenantId === undefined) return { ok: false, error: 'message without tenant header' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, error: 'body is not JSON' };
  }
  const envelope = EventEnvelopeSchema.safeParse(parsed);
  if (!envelope.success) return { ok: false, error: 'body is not an event envelope' };
  return { ok: true, envelope: envelope.data, headers: { ...headers, tenantId } };
}

/** A message for one webhook delivery (a retry, a manual retry or a replay), not a fan-out. */
export interface TargetedMessage {
  deliveryId: string;
  tenantId: string;
  /** The delivery's token when sent: a message whose token the row no longer has is stale. */
  token: string;
  /** When it is due (epoch ms; 0 = now). */
  dueAt: number;
  /** The event's envelope JSON. */
  body: Buffer;
  /**
   * When the gateway accepted the event (epoch ms), carried from the event message through the
   * retries for the delivery lag histogram; absent for manual retries and replays.
   */
  receivedAtMs?: number | undefined;
  /** The event's W3C trace context (as stored with it): every attempt continues its trace. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** A targeted message into `queue` (a retry tier or `reten.delivery`) by the default exchange. */
export function encodeTargetedMessage(m: TargetedMessage, queue: string): OutgoingMessage {
  return {
    exchange: '',
    routingKey: queue,
    content: m.body,
    options: {
      persistent: true,
      contentType: 'application/json',
      headers: {
        [DELIVERY_HEADERS.deliveryId]: m.deliveryId,
        [DELIVERY_HEADERS.token]: m.token,
        [DELIVERY_HEADERS.dueAt]: m.dueAt,
        [MESSAGE_HEADERS.tenant]: m.tenantId,
        ...(m.receivedAtMs === undefined ? {} : { [MESSAGE_HEADERS.receivedAt]: m.receivedAtMs }),
        ...(m.traceparent ? { [MESSAGE_HEADERS.traceparent]: m.traceparent } : {}),
        ...(m.tracestate ? { [MESSAGE_HEADERS.tracestate]: m.tracestate } : {}),
      },
    },
  };
}

/** A consumed targeted message; `token` is undefined when missing (it cannot be acted on). */
export type DecodedTargetedMessage = Omit<TargetedMessage, 'token'> & { token: string | undefined };

/** The targeted message a consumed message is, or undefined for an event message (no delivery id). */
export function decodeTargetedMessage(msg: Message): DecodedTargetedMessage | undefined {
  const headers = headersOf(msg);
  const deliveryId = headerString(headers, DELIVERY_HEADERS.deliveryId);
  if (deliveryId === undefined) return undefined;
  return {
    deliveryId,
    token: headerString(headers, DELIVERY_HEADERS.token),
    dueAt: Number(headerString(headers, DELIVERY_HEADERS.dueAt) ?? 0),
    tenantId: headerString(headers, MESSAGE_HEADERS.tenant) ?? '',
    body: msg.content,
    receivedAtMs: receivedAtHeader(headers),
    traceparent: headerString(headers, MESSAGE_HEADERS.traceparent),
    tracestate: headerString(headers, MESSAGE_HEADERS.tracestate),
  };
}
