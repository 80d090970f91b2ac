/**
 * The Redis pub/sub payload: one header line `<stream_position> <published_at_ms> <event_type>`
 * then the envelope JSON exactly as RabbitMQ carried it, so replicas filter and forward it
 * unparsed.
 */
export interface LiveEvent {
  /** The relay's publish order: live events of a channel come in increasing position. */
  position: number;
  publishedAtMs: number;
  eventType: string;
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
): Buffer {
  return Buffer.concat([Buffer.from(`${position} ${publishedAtMs} ${eventType}\n`), json]);
}

/** Parses a payload; undefined when it is not one of ours. */
export function decodeLiveEvent(payload: Buffer): LiveEvent | undefined {
  const end = payload.indexOf(NEWLINE);
  if (end < 0) return undefined;
  const [position, at, eventType] = payload.toString('latin1', 0, end).split(' ');
  const positionNum = Number(position);
  const atNum = Number(at);
  if (!eventType || !Number.isSafeInteger(positionNum) || !Number.isFinite(atNum)) return undefined;
  return {
    position: positionNum,
    publishedAtMs: atNum,
    eventType,
    json: payload.subarray(end + 1),
  };
}
