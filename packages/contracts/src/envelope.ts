import { z } from 'zod';
import { EventTypeNameSchema } from './event-type';

/** `evt_` followed by a ULID: ids sort by creation time. */
export const EventIdSchema = z
  .string()
  .regex(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an event id (evt_ followed by a ULID)')
  .meta({ example: 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V' });

/** Any JSON value. */
export const JsonValueSchema: z.ZodType<unknown> = z
  .unknown()
  .meta({ description: 'Any JSON value' });

/** What webhooks receive, what streams send and what the REST API returns. */
export const EventEnvelopeSchema = z
  .object({
    event_id: EventIdSchema,
    event_type: EventTypeNameSchema,
    timestamp: z.iso.datetime({ offset: true }).describe('When the event happened (UTC)'),
    revision: z.number().int().min(1),
    data: JsonValueSchema,
  })
  .meta({ id: 'EventEnvelope' });
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;
