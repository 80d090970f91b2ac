/**
 * The Redis pub/sub payload: one header line
 * `<stream_position> <published_at_ms> <event_type> <received_at_ms>` then the envelope JSON
 * exactly as RabbitMQ carried it, so replicas filter and forward it unparsed. `received_at_ms`
 * (when the gateway accepted the event) is absent from payloads of older replicas, and read
 * only for the lag histogram.
 */
export interface LiveEvent {
  /** The relay's publish order: live events of a channel come in increasing position. */
  position: number;
  publishedAtMs: number;
  eventType: string;
  /** When the gateway accepted the event (epoch ms); undefined when the payload has none. */
  receivedAtMs: number | undefined;
  json: Buffer;
}

const NEWLINE = 0x0a;

/** The Redis channel of a tenant's events. */
export function tenantChannel(prefix: string, tenantId: string): string {
  return `${prefix}stream:${tenantId}`;
}

/** Builds the payload published to Redis. */
export function encodeLiveEvent(
  position: string,
  publishedAtMs: number,
  eventType: string,
  json: Buffer,
  receivedAtMs?: number,
): Buffer {
  const received = receivedAtMs === undefined ? '' : ` ${receivedAtMs}`;
  return Buffer.concat([
    Buffer.from(`${position} ${publishedAtMs} ${eventType}${received}\n`),
    json,
  ]);
}

/** Parses a payload; undefined when it is not one of ours. */
export function decodeLiveEvent(payload: Buffer): LiveEvent | undefined {
  const end = payload.indexOf(NEWLINE);
  if (end < 0) return undefined;
  const [position, at, eventType, received] = payload.toString('latin1', 0, end).split(' ');
  const positionNum = Number(position);
  const atNum = Number(at);
  if (!eventType || !Number.isSafeInteger(positionNum) || !Number.isFinite(atNum)) return undefined;
  return {
    position: positionNum,
    publishedAtMs: atNum,
    eventType,
    receivedAtMs:
      received === undefined || !Number.isFinite(Number(received)) ? undefined : Number(received),
    json: payload.subarray(end + 1),
  };
}
