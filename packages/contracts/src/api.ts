import { z } from 'zod';
import { EventTypeFilterSchema, EventTypeNameSchema } from './event-type';
import { EventEnvelopeSchema, EventIdSchema, JsonValueSchema } from './envelope';
import { OrderingKeySchema } from './ordering-key';
import { TimestampSchema } from './timestamp';

export const MAX_LIST_LIMIT = 500;

/** Event types in this namespace (`reten.test`, `reten.endpoint.disabled`) come from Reten only. */
export const RESERVED_EVENT_TYPE_PREFIX = /^reten\./i;

/** The type of an event a producer sends: any event type outside the reserved `reten.` namespace. */
export const ProducerEventTypeSchema = EventTypeNameSchema.refine(
  (type) => !RESERVED_EVENT_TYPE_PREFIX.test(type),
  'must not start with "reten.": that namespace is reserved for events of the platform',
);

export const IngestAcceptedSchema = z
  .object({ event_id: EventIdSchema })
  .meta({ id: 'IngestAccepted' });
export type IngestAccepted = z.infer<typeof IngestAcceptedSchema>;

export const CreateEventRequestSchema = z
  .object({
    event_type: ProducerEventTypeSchema,
    data: JsonValueSchema,
    timestamp: TimestampSchema.optional().describe(
      'When the event happened; defaults to the time it was accepted',
    ),
    ordering_key: OrderingKeySchema.optional(),
  })
  .strict()
  .meta({ id: 'CreateEventRequest' });
export type CreateEventRequest = z.infer<typeof CreateEventRequestSchema>;

export const UpdateEventRequestSchema = z
  .object({
    data: JsonValueSchema,
    timestamp: TimestampSchema.optional(),
    ordering_key: OrderingKeySchema.optional().describe(
      'The event keeps the ordering key it was created with: a new revision inherits it. ' +
        'Naming another key (or one for an event created without) is 409 `ordering_key_immutable`.',
    ),
  })
  .strict()
  .meta({ id: 'UpdateEventRequest' });
export type UpdateEventRequest = z.infer<typeof UpdateEventRequestSchema>;

export const ListEventsQuerySchema = z
  .object({
    type: EventTypeFilterSchema.optional().describe('Exact type or wildcard such as `order.*`'),
    since: TimestampSchema.optional().describe('Events with timestamp ≥ since'),
    until: TimestampSchema.optional().describe('Events with timestamp < until'),
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

/** How far one eworker got with one event revision. */
export const EworkerProcessingStatusSchema = z
  .object({
    eworker: z.string(),
    revision: z.number().int().min(1),
    status: z.enum(['pending', 'processed', 'failed']),
    attempts: z.number().int().min(0),
    last_error: z.string().nullable(),
    updated_at: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'EworkerProcessingStatus' });
export type EworkerProcessingStatus = z.infer<typeof EworkerProcessingStatusSchema>;

/** How far the delivery of one event to one webhook endpoint got. */
export const WebhookDeliveryStatusSchema = z
  .object({
    delivery_id: z.string(),
    webhook_id: z.string(),
    url: z.string(),
    revision: z.number().int().min(1),
    status: z.enum(['pending', 'succeeded', 'retrying', 'failed', 'held']),
    attempts: z.number().int().min(0),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_attempt_at: z.iso.datetime({ offset: true }).nullable(),
    next_attempt_at: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'WebhookDeliveryStatus' });
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatusSchema>;

export const EventDetailSchema = EventEnvelopeSchema.extend({
  ordering_key: OrderingKeySchema.nullable().describe(
    'The ordering key the event was created with; null when it has none',
  ),
  traceparent: z
    .string()
    .nullable()
    .describe(
      "W3C Trace Context `traceparent` the event revision was accepted under: the gateway's `ingest` span, a child of the request's own `traceparent` (or a new trace); its broker messages, eworker spans and webhook attempts continue it. null for revisions stored before trace context was kept",
    ),
  tracestate: z
    .string()
    .nullable()
    .describe('W3C Trace Context `tracestate` stored beside `traceparent`; null when none'),
  trace_id: z
    .string()
    .nullable()
    .describe(
      'The trace id of `traceparent` (32 hex digits): what to look the event up by in a tracing backend; null when there is no traceparent',
    ),
  received_at: z.iso.datetime({ offset: true }),
  published_at: z.iso.datetime({ offset: true }).nullable(),
  eworkers: z
    .array(EworkerProcessingStatusSchema)
    .describe('Processing status of each eworker registered for the event type'),
  webhooks: z
    .array(WebhookDeliveryStatusSchema)
    .describe(
      'The stored deliveries of this revision, one per endpoint, with their status. A first attempt stores its delivery when it ends, is put off or has been in flight for a second: one just sent may not be listed yet',
    ),
}).meta({ id: 'EventDetail' });
export type EventDetail = z.infer<typeof EventDetailSchema>;
