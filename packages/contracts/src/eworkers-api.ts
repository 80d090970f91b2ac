import { z } from 'zod';
import { EWORKER_NAME_PATTERN } from './broker-names';
import { EventTypeNameSchema } from './event-type';

/** An eworker name as it appears in paths and queue names. */
export const EworkerNameSchema = z
  .string()
  .regex(EWORKER_NAME_PATTERN, 'must be 1 to 64 lower-case letters, digits or "-"')
  .meta({ example: 'logs' });

/** Event counts of one type for the caller's tenant. */
export const EventTypeCountsSchema = z.object({
  events: z.number().int().min(0).describe('Current revisions of this type'),
  processed: z.number().int().min(0).describe('Revisions marked processed by its eworkers'),
  failed: z.number().int().min(0).describe('Revisions parked by its eworkers, not replayed yet'),
});

/** One eworker's registration for an event type. */
export const EventTypeRegistrationSchema = z.object({
  eworker: z.string(),
  json_schema: z.unknown().describe('JSON Schema (draft 2020-12) the data must satisfy'),
  version: z.number().int().min(1),
  updated_at: z.iso.datetime({ offset: true }),
});

/** An event type: its registrations (none for an unregistered type) and counts. */
export const EventTypeSchema = z
  .object({
    event_type: EventTypeNameSchema,
    eworkers: z.array(z.string()).describe('Eworkers registered for this type'),
    json_schema: z
      .unknown()
      .nullable()
      .describe('The schema of the first registration; null when no eworker is registered'),
    registrations: z.array(EventTypeRegistrationSchema),
    counts: EventTypeCountsSchema,
  })
  .meta({ id: 'EventType' });
export type EventType = z.infer<typeof EventTypeSchema>;

export const EventTypeListSchema = z
  .object({ data: z.array(EventTypeSchema) })
  .meta({ id: 'EventTypeList' });
export type EventTypeList = z.infer<typeof EventTypeListSchema>;

/** One eworker: broker state (all tenants) and processing counts (the caller's tenant). */
export const EworkerSummarySchema = z
  .object({
    name: EworkerNameSchema,
    types: z.array(EventTypeNameSchema),
    queue: z.string(),
    consumers: z
      .number()
      .int()
      .nullable()
      .describe('Consumers on the queue (one active, the others standby); null if unknown'),
    queue_depth: z
      .number()
      .int()
      .nullable()
      .describe('Messages ready in the queue, all tenants; null when the broker is unreachable'),
    processed: z.number().int().min(0),
    failed: z.number().int().min(0).describe('Revisions that were parked at least once'),
    parked: z.number().int().min(0).describe('Revisions parked now, waiting for a replay'),
    last_processed_at: z.iso.datetime({ offset: true }).nullable(),
    registered_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'EworkerSummary' });
export type EworkerSummary = z.infer<typeof EworkerSummarySchema>;

export const EworkerListSchema = z
  .object({ data: z.array(EworkerSummarySchema) })
  .meta({ id: 'EworkerList' });
export type EworkerList = z.infer<typeof EworkerListSchema>;

export const ReplayParkedResultSchema = z
  .object({
    replayed: z.number().int().min(0).describe('Parked revisions sent back to the eworker'),
    event_ids: z.array(z.string()).describe('In the order they were sent (event order)'),
  })
  .meta({ id: 'ReplayParkedResult' });
export type ReplayParkedResult = z.infer<typeof ReplayParkedResultSchema>;

/** One parked revision of an eworker (the caller's tenant). */
export const ParkedEventSchema = z.object({
  event_id: z.string(),
  revision: z.number().int().min(1),
  event_type: EventTypeNameSchema,
  status: z
    .enum(['failed', 'replaying'])
    .describe('`replaying`: sent back by a replay, not processed yet'),
  attempts: z.number().int().min(0),
  last_error: z.string().nullable(),
  updated_at: z.iso.datetime({ offset: true }),
});
export type ParkedEvent = z.infer<typeof ParkedEventSchema>;

export const ParkedEventListSchema = z
  .object({ data: z.array(ParkedEventSchema).describe('In event order, oldest first') })
  .meta({ id: 'ParkedEventList' });
export type ParkedEventList = z.infer<typeof ParkedEventListSchema>;

export const ListParkedQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .strict();
