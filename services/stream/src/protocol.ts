import { z } from 'zod';
import { EventIdSchema, EventTypeFilterSchema, RetenError } from '@reten/contracts';
import type { ErrorCode, ErrorDetail } from '@reten/contracts';

/** Most type filters one subscription may hold. */
export const MAX_TYPE_FILTERS = 50;

/** `evt_…` (resume after its first revision) or `evt_…:<revision>` (after that revision). */
export const LastEventIdSchema = z
  .string()
  .regex(
    /^evt_[0-9A-HJKMNP-TV-Z]{26}(:[1-9][0-9]{0,8})?$/,
    'must be evt_<ULID> or evt_<ULID>:<revision>',
  )
  .transform((value) => {
    const [eventId, revision] = value.split(':');
    return {
      eventId: EventIdSchema.parse(eventId),
      revision: revision ? Number(revision) : undefined,
    };
  });
export type LastEventId = z.infer<typeof LastEventIdSchema>;

const TypeListSchema = z.array(EventTypeFilterSchema).min(1).max(MAX_TYPE_FILTERS);

/** Client → server messages (text frames, JSON). */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('subscribe'),
      types: TypeListSchema.optional().describe('Replaces the filter; default: every type'),
      last_event_id: z
        .string()
        .optional()
        .describe('Resume after this event; only in the first subscription'),
    })
    .strict(),
  z.object({ type: z.literal('ping') }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

/** Server → client control frames; events are sent as the bare envelope (no `type` key). */
export type ControlFrame =
  | { type: 'welcome'; tenant_id: string; subscribed: boolean; ping_interval_ms: number }
  | { type: 'subscribed'; types: string[] }
  | { type: 'resumed'; last_event_id: string | null; backfilled: number }
  | { type: 'pong' }
  | { type: 'error'; error: { code: ErrorCode; message: string; details?: ErrorDetail[] } };

/** What the upgrade URL asks for. */
export interface ConnectParams {
  token: string | undefined;
  /** undefined: no filter in the URL (wait for a subscribe message unless resuming). */
  types: string[] | undefined;
  lastEventId: LastEventId | undefined;
}

function badRequest(path: string, message: string): RetenError {
  return new RetenError('bad_request', `Invalid ${path}: ${message}`, [{ path, message }]);
}

/** Parses a comma list of type filters (`order.*,log:ClientLog`). */
export function parseTypeList(raw: string, path: string): string[] {
  const list = raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const parsed = TypeListSchema.safeParse(list);
  if (!parsed.success) {
    throw badRequest(path, parsed.error.issues[0]?.message ?? 'invalid type filter');
  }
  return parsed.data;
}

/** Parses `last_event_id`; throws bad_request. */
export function parseLastEventId(raw: string, path: string): LastEventId {
  const parsed = LastEventIdSchema.safeParse(raw);
  if (!parsed.success) {
    throw badRequest(path, parsed.error.issues[0]?.message ?? 'invalid event id');
  }
  return parsed.data;
}

/** Reads `types`, `last_event_id` and `token` from the upgrade URL's query. */
export function parseConnectParams(search: URLSearchParams): ConnectParams {
  const types = search.get('types');
  const last = search.get('last_event_id');
  return {
    token: search.get('token') ?? undefined,
    types: types === null ? undefined : parseTypeList(types, 'query.types'),
    lastEventId:
      last === null || last === '' ? undefined : parseLastEventId(last, 'query.last_event_id'),
  };
}
