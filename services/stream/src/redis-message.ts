/**
 * The Redis pub/sub payload: one header line `<seq> <published_at_ms> <event_type>` then the
 * envelope JSON exactly as RabbitMQ carried it, so replicas filter and forward it unparsed.
 */
export interface LiveEvent {
  seq: number;
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
  seq: string,
  publishedAtMs: number,
  eventType: string,
  json: Buffer,
): Buffer {
  return Buffer.concat([Buffer.from(`${seq} ${publishedAtMs} ${eventType}\n`), json]);
}

/** Parses a payload; undefined when it is not one of ours. */
export function decodeLiveEvent(payload: Buffer): LiveEvent | undefined {
  const end = payload.indexOf(NEWLINE);
  if (end < 0) return undefined;
  const [seq, at, eventType] = payload.toString('latin1', 0, end).split(' ');
  const seqNum = Number(seq);
  const atNum = Number(at);
  if (!eventType || !Number.isSafeInteger(seqNum) || !Number.isFinite(atNum)) return undefined;
  return { seq: seqNum, publishedAtMs: atNum, eventType, json: payload.subarray(end + 1) };
}
