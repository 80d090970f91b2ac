import type { ZodOpenApiPathsObject } from 'zod-openapi';
import {
  EworkerListSchema,
  ListParkedQuerySchema,
  ParkedEventListSchema,
  ReplayParkedResultSchema,
} from '@reten/contracts';
import { EworkerParamsSchema } from './eworker-routes';
import { errorResponse as error, jsonResponse as json } from '../openapi-responses';

/** The paths of the eworkers admin API. */
export const eworkerPaths: ZodOpenApiPathsObject = {
  '/api/v1/eworkers': {
    get: {
      operationId: 'listEworkers',
      summary:
        'Registered eworkers: consumers and queue depth (broker), processed / failed / parked (caller’s tenant)',
      responses: { '200': json('Eworkers', EworkerListSchema) },
    },
  },
  '/api/v1/eworkers/{name}/parked': {
    get: {
      operationId: 'listParked',
      summary: 'The caller’s parked events of this eworker, oldest first, with their last error',
      requestParams: { path: EworkerParamsSchema, query: ListParkedQuerySchema },
      responses: {
        '200': json('Parked events', ParkedEventListSchema),
        '404': error('`not_found`: no such eworker'),
        '422': error('`validation_failed`: bad `limit`'),
      },
    },
  },
  '/api/v1/eworkers/{name}/parked/replay': {
    post: {
      operationId: 'replayParked',
      summary:
        'Sends the caller’s parked events of this eworker back to its queue, in event order (at most 1000 per call)',
      requestParams: { path: EworkerParamsSchema },
      responses: {
        '202': json('Sent; the eworker processes them in order', ReplayParkedResultSchema),
        '404': error('`not_found`: no such eworker'),
        '503': error('`service_unavailable`: the broker did not confirm; the events stay parked'),
      },
    },
  },
};
