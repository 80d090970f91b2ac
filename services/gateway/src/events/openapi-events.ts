import { z } from 'zod';
import type { ZodOpenApiPathsObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import {
  CreateEventRequestSchema,
  EventDetailSchema,
  EventEnvelopeSchema,
  EventListSchema,
  IngestAcceptedSchema,
  ListEventsQuerySchema,
  ORDERING_KEY_HEADER,
  OrderingKeySchema,
  UpdateEventRequestSchema,
} from '@reten/contracts';
import { EvciParamsSchema } from './evci';
import { EventIdParamsSchema } from './events';
import { errorResponse } from '../openapi-responses';

const commonErrors: ZodOpenApiResponsesObject = {
  '400': errorResponse('`invalid_json`: the body is not JSON'),
  '413': errorResponse('`payload_too_large`'),
  '415': errorResponse('`unsupported_media_type`: Content-Type is not application/json'),
  '422': errorResponse('`validation_failed` (with `details`) or `idempotency_key_reused`'),
  '409': errorResponse('`idempotency_key_in_progress`'),
  '500': errorResponse('`internal_error`'),
  '503': errorResponse('`service_unavailable`: nothing was stored; retry'),
};

// header parameters as plain entries: the route table declares Idempotency-Key in requestParams
const traceHeaders = [
  z
    .string()
    .optional()
    .meta({
      param: { in: 'header', name: 'traceparent' },
      description:
        'W3C Trace Context: stored with the event (revision) and carried to its consumers; ' +
        'an invalid one is ignored, never refused',
      example: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    }),
  z
    .string()
    .optional()
    .meta({
      param: { in: 'header', name: 'tracestate' },
      description:
        'W3C Trace Context vendor data, kept beside a valid `traceparent` (512 characters at most)',
    }),
];

const orderingKeyHeader = OrderingKeySchema.optional().meta({
  param: { in: 'header', name: ORDERING_KEY_HEADER },
  description:
    "The event's ordering key (EVCI's body is the data): events sharing a key reach each webhook " +
    'endpoint in publish order. 1 to 128 printable ASCII characters; otherwise 422 ' +
    '`validation_failed` naming `headers.reten-ordering-key`',
});

/** An event's detail: its revision as the ETag; never cached (it carries live status). */
const DETAIL_HEADERS = {
  ETag: {
    description:
      'The revision, e.g. `"2"`: send it back as `If-Match` on PUT. It does not cover the processing status, so a GET never answers 304.',
    schema: { type: 'string' as const },
  },
  'Cache-Control': { description: '`no-store`', schema: { type: 'string' as const } },
};

/** The paths of EVCI ingest and the REST events API. */
export const eventPaths: ZodOpenApiPathsObject = {
  '/v1.0/event/{type}': {
    post: {
      operationId: 'ingestEvent',
      summary: 'EVCI ingest: any JSON body becomes the data of an event of this type',
      // the Idempotency-Key header is declared from the route table
      requestParams: { path: EvciParamsSchema },
      parameters: [orderingKeyHeader, ...traceHeaders],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: z.unknown().describe('Any JSON value') } },
      },
      responses: {
        '202': {
          description: 'Stored durably; will be processed and delivered',
          content: { 'application/json': { schema: IngestAcceptedSchema } },
        },
        ...commonErrors,
      },
    },
  },
  '/api/v1/events': {
    post: {
      operationId: 'createEvent',
      parameters: traceHeaders,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: CreateEventRequestSchema } },
      },
      responses: {
        '202': {
          description: 'Stored durably',
          content: { 'application/json': { schema: EventEnvelopeSchema } },
        },
        ...commonErrors,
      },
    },
    get: {
      operationId: 'listEvents',
      summary: 'Current revisions, newest first, with cursor pagination',
      requestParams: { query: ListEventsQuerySchema },
      responses: {
        '200': {
          description: 'A page of events',
          content: { 'application/json': { schema: EventListSchema } },
        },
        '422': errorResponse('`validation_failed`'),
      },
    },
  },
  '/api/v1/events/{id}': {
    get: {
      operationId: 'getEvent',
      requestParams: { path: EventIdParamsSchema },
      responses: {
        '200': {
          description: 'The current revision',
          headers: DETAIL_HEADERS,
          content: { 'application/json': { schema: EventDetailSchema } },
        },
        '404': errorResponse('`not_found`'),
      },
    },
    put: {
      operationId: 'updateEvent',
      summary: 'Stores a new revision (revision + 1), published again',
      requestParams: {
        path: EventIdParamsSchema,
        header: z.object({
          'if-match': z.string().optional().describe('Expected current revision, e.g. "1"'),
        }),
      },
      parameters: traceHeaders,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: UpdateEventRequestSchema } },
      },
      responses: {
        '200': {
          description: 'The new revision',
          headers: DETAIL_HEADERS,
          content: { 'application/json': { schema: EventDetailSchema } },
        },
        '404': errorResponse('`not_found`'),
        '412': errorResponse('`precondition_failed`: If-Match is not the current revision'),
        ...commonErrors,
        '409': errorResponse(
          '`ordering_key_immutable`: `ordering_key` is not the key the event was created with',
        ),
      },
    },
  },
};
