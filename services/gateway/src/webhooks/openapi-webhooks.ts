import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import {
  CreateWebhookRequestSchema,
  CreatedWebhookEndpointSchema,
  DeliveryListSchema,
  ListDeliveriesQuerySchema,
  ListWebhooksQuerySchema,
  ReplayRequestSchema,
  ReplayResultSchema,
  RotateSecretRequestSchema,
  RotatedSecretSchema,
  TestEventResultSchema,
  UpdateWebhookRequestSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  WebhookListSchema,
  WebhookStatsSchema,
} from '@reten/contracts';
import { DeliveryIdParamsSchema } from './delivery-routes';
import { WebhookIdParamsSchema } from './endpoint-lookup';
import { errorResponse as error, jsonResponse as json } from '../openapi-responses';

const body = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const notFound = error('`not_found`: no such webhook for the caller’s tenant');
const invalid = error('`validation_failed` with `details` (bad URL, private target, bad filter…)');
const params = { path: WebhookIdParamsSchema };

/** The paths of webhook endpoints and deliveries. */
export const webhookPaths: ZodOpenApiPathsObject = {
  '/api/v1/webhooks': {
    post: {
      operationId: 'createWebhook',
      summary: 'Registers an endpoint; the answer shows its signing secret (only here)',
      requestParams: {
        header: z.object({
          'idempotency-key': z
            .string()
            .max(255)
            .optional()
            .describe('Same key and body → the first answer again, no second endpoint'),
        }),
      },
      requestBody: body(CreateWebhookRequestSchema),
      responses: { '201': json('Created', CreatedWebhookEndpointSchema), '422': invalid },
    },
    get: {
      operationId: 'listWebhooks',
      requestParams: { query: ListWebhooksQuerySchema },
      responses: { '200': json('A page of endpoints', WebhookListSchema) },
    },
  },
  '/api/v1/webhooks/{id}': {
    get: {
      operationId: 'getWebhook',
      requestParams: params,
      responses: { '200': json('The endpoint', WebhookEndpointSchema), '404': notFound },
    },
    patch: {
      operationId: 'updateWebhook',
      requestParams: params,
      requestBody: body(UpdateWebhookRequestSchema),
      responses: {
        '200': json('The endpoint', WebhookEndpointSchema),
        '404': notFound,
        '422': invalid,
      },
    },
    delete: {
      operationId: 'deleteWebhook',
      requestParams: params,
      responses: { '204': { description: 'Deleted, with its delivery history' }, '404': notFound },
    },
  },
  '/api/v1/webhooks/{id}/rotate-secret': {
    post: {
      operationId: 'rotateWebhookSecret',
      summary: 'New secret; the old one keeps signing alongside it for the grace period',
      requestParams: params,
      requestBody: { content: { 'application/json': { schema: RotateSecretRequestSchema } } },
      responses: {
        '200': json('The new secret', RotatedSecretSchema),
        '404': notFound,
        '409': error('`conflict`: an ed25519 endpoint has no shared secret'),
      },
    },
  },
  '/api/v1/webhooks/{id}/test': {
    post: {
      operationId: 'testWebhook',
      summary: 'Stores a `reten.test` event delivered to this endpoint only',
      requestParams: params,
      responses: {
        '202': json('Stored; delivered at once', TestEventResultSchema),
        '404': notFound,
      },
    },
  },
  '/api/v1/webhooks/{id}/deliveries': {
    get: {
      operationId: 'listWebhookDeliveries',
      summary: 'Deliveries, newest first, each with every attempt',
      requestParams: { ...params, query: ListDeliveriesQuerySchema },
      responses: { '200': json('A page of deliveries', DeliveryListSchema), '404': notFound },
    },
  },
  '/api/v1/webhooks/{id}/stats': {
    get: {
      operationId: 'getWebhookStats',
      requestParams: params,
      responses: {
        '200': json('Success rate, latency, last error', WebhookStatsSchema),
        '404': notFound,
      },
    },
  },
  '/api/v1/webhooks/{id}/replay': {
    post: {
      operationId: 'replayWebhook',
      summary:
        'Re-sends the deliveries of events since a time (optionally failed only), in event order',
      description:
        'Events with an ordering key are re-sent one at a time per key, in event order, after any unfinished earlier delivery of their key; the others in parallel.',
      requestParams: params,
      requestBody: body(ReplayRequestSchema),
      responses: {
        '202': json('Queued', ReplayResultSchema),
        '404': notFound,
        '409': error('`conflict`: the endpoint is disabled'),
        '422': invalid,
      },
    },
  },
  '/api/v1/deliveries/{id}': {
    get: {
      operationId: 'getDelivery',
      requestParams: { path: DeliveryIdParamsSchema },
      responses: {
        '200': json('The delivery', WebhookDeliverySchema),
        '404': error('`not_found`'),
      },
    },
  },
  '/api/v1/deliveries/{id}/retry': {
    post: {
      operationId: 'retryDelivery',
      summary: 'Queues one more attempt of a delivery, whatever its state',
      description:
        'A delivery of an event with an ordering key waits (`held`) while an earlier delivery of its key to the endpoint is unfinished. Retrying the failed delivery that holds its key on an `on_failure: block` endpoint releases the deliveries held behind it, in order, once it succeeds.',
      requestParams: { path: DeliveryIdParamsSchema },
      responses: {
        '202': json('Queued', WebhookDeliverySchema),
        '404': error('`not_found`'),
        '409': error('`conflict`: its endpoint is disabled'),
      },
    },
  },
};
