/** What the CLI needs of an event frame of the stream (the bare envelope). */
export interface StreamEvent {
  event_id: string;
  event_type: string;
  revision: number;
}

/** A control frame of the stream protocol (`welcome`, `subscribed`, `resumed`, `error`, …). */
export interface ControlFrame {
  type: string;
  tenant_id?: unknown;
  types?: unknown;
  ping_interval_ms?: unknown;
  last_event_id?: unknown;
  backfilled?: unknown;
  error?: { code?: unknown; message?: unknown };
}

export type Frame =
  { kind: 'event'; event: StreamEvent } | { kind: 'control'; frame: ControlFrame };

/**
 * Classifies one text frame: an event is recognised by its `event_id` (control frames never
 * have one, as the stream's protocol says); anything unreadable is `undefined`.
 */
export function parseFrame(text: string): Frame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.event_id === 'string') {
    if (typeof v.event_type !== 'string' || typeof v.revision !== 'number') return undefined;
    return {
      kind: 'event',
      event: { event_id: v.event_id, event_type: v.event_type, revision: v.revision },
    };
  }
  if (typeof v.type === 'string') return { kind: 'control', frame: v as unknown as ControlFrame };
  return undefined;
}

/** `code: message` of an `error` control frame. */
export function describeErrorFrame(frame: ControlFrame): { code: string; message: string } {
  return {
    code: typeof frame.error?.code === 'string' ? frame.error.code : 'bad_request',
    message: typeof frame.error?.message === 'string' ? frame.error.message : 'stream error',
  };
}
