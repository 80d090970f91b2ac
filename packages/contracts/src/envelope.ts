import { z } from 'zod';
import { EventTypeNameSchema } from './event-type';
import { OrderingKeySchema } from './ordering-key';

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
    // absent when the event has none: envelopes stored and published before keys existed, and
    // every keyless event, keep their exact bytes
    ordering_key: OrderingKeySchema.optional(),
    data: JsonValueSchema,
  })
  .meta({ id: 'EventEnvelope' });
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/** What an envelope is built from: the stored row, its data kept as the text PostgreSQL returned. */
export interface EnvelopeSource {
  eventId: string;
  eventType: string;
  occurredAt: Date;
  revision: number;
  /** The event's ordering key; null or absent when it has none (then the envelope omits it). */
  orderingKey?: string | null | undefined;
  /** The event data as JSON text (`data::text`), embedded as it is. */
  dataJson: string;
}

/**
 * The envelope JSON, in the documented key order, built around the stored data text: the data
 * is never parsed and written again, which would change numbers such as `1.0` or integers
 * past 2^53. The relay publishes these bytes, stream backfill and webhook retries send the same.
 */
export function eventEnvelopeJson(source: EnvelopeSource): string {
  return (
    `{"event_id":${JSON.stringify(source.eventId)},"event_type":${JSON.stringify(source.eventType)},` +
    `"timestamp":${JSON.stringify(source.occurredAt.toISOString())},"revision":${source.revision},` +
    (source.orderingKey ? `"ordering_key":${JSON.stringify(source.orderingKey)},` : '') +
    `"data":${source.dataJson}}`
  );
}
