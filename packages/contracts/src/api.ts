import { z } from 'zod';
import { EventTypeFilterSchema, EventTypeNameSchema } from './event-type';
import { EventEnvelopeSchema, EventIdSchema, JsonValueSchema } from './envelope';

export const MAX_LIST_LIMIT = 500;

export const IngestAcceptedSchema = z
  .object({ event_id: EventIdSchema })
  .meta({ id: 'IngestAccepted' });
export type IngestAccepted = z.infer<typeof IngestAcceptedSchema>;

export const CreateEventRequestSchema = z
  .object({
    event_type: EventTypeNameSchema,
    data: JsonValueSchema,
    timestamp: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the event happened; defaults to the time it was accepted'),
  })
  .strict()
  .meta({ id: 'CreateEventRequest' });
export type CreateEventRequest = z.infer<typeof CreateEventRequestSchema>;

export const UpdateEventRequestSchema = z
  .object({
    data: JsonValueSchema,
    timestamp: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .meta({ id: 'UpdateEventRequest' });
export type UpdateEventRequest = z.infer<typeof UpdateEventRequestSchema>;

export const ListEventsQuerySchema = z
  .object({
    type: EventTypeFilterSchema.optional().describe('Exact type or wildcard such as `order.*`'),
    since: z.iso.datetime({ offset: true }).optional().describe('Events with timestamp ≥ since'),
    until: z.iso.datetime({ offset: true }).optional().describe('Events with timestamp < until'),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(100),
    cursor: z.string().max(200).optional().describe('`next_cursor` of the previous page'),
  })
  .strict();
export type ListEventsQuery = z.infer<typeof ListEventsQuerySchema>;

export const EventListSchema = z
  .object({
    data: z.array(EventEnvelopeSchema),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'EventList' });
export type EventList = z.infer<typeof EventListSchema>;

export const EventDetailSchema = EventEnvelopeSchema.extend({
  received_at: z.iso.datetime({ offset: true }),
  published_at: z.iso.datetime({ offset: true }).nullable(),
}).meta({ id: 'EventDetail' });
export type EventDetail = z.infer<typeof EventDetailSchema>;
