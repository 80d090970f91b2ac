import { createDocument } from 'zod-openapi';
import type { oas31 } from 'zod-openapi';
import { pathsOf } from './api-route';
import { withSecurity } from './access/openapi-auth';
import { withProtocolErrors } from './openapi-errors';
import { API_ROUTES, ROUTE_SCOPES } from './route-table';

/** The OpenAPI 3.1 document: the route table's operations, from the zod schemas the routes parse with. */
export function buildOpenApiDocument(version: string): oas31.OpenAPIObject {
  const doc = createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Reten API',
      version,
      description: 'Durable event ingest (EVCI) and the REST events API.',
    },
    paths: {
      ...pathsOf(API_ROUTES),
      '/healthz': {
        get: { operationId: 'healthz', responses: { '200': { description: 'Alive' } } },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          responses: {
            '200': { description: 'Ready' },
            '503': { description: 'Not ready (draining or a dependency is down)' },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          responses: { '200': { description: 'Prometheus metrics' } },
        },
      },
    },
  });
  return withProtocolErrors(withSecurity(doc, ROUTE_SCOPES));
}
