import express from 'express';
import type { Express } from 'express';
import {
  authenticate,
  errorHandler,
  jsonBody,
  notFoundHandler,
  opsRouter,
  requestMetrics,
  scopePolicy,
} from '@reten/http';
import type { Authenticator } from '@reten/auth';
import type { Lifecycle, Logger, ReadinessCheck, Registry } from '@reten/observability';
import type { EventStore } from '@reten/store';
import { DEFAULT_ROUTE_SCOPE, ROUTE_SCOPES } from './auth/route-scopes';
import type { Ingestor } from './ingest/ingestor';
import { evciRouter } from './routes/evci';
import type { EventStatusReaders } from './routes/event-status';
import { eventsRouter } from './routes/events';

export interface AppDeps {
  ingestor: Ingestor;
  store: EventStore;
  statusReaders: EventStatusReaders;
  registry: Registry;
  lifecycle: Lifecycle;
  readiness: ReadinessCheck[];
  openApiDocument: unknown;
  bodyLimitBytes: number;
  log: Logger;
  authenticator: Authenticator;
}

/** The gateway's express app: ops routes, EVCI, REST events, the error envelope everywhere. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestMetrics(deps.registry));
  app.use(
    opsRouter({ registry: deps.registry, lifecycle: deps.lifecycle, checks: deps.readiness }),
  );
  const openApiJson = JSON.stringify(deps.openApiDocument);
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApiJson);
  });
  // everything below needs credentials; scopes come from the one policy in auth/route-scopes
  app.use(authenticate(deps.authenticator));
  app.use(scopePolicy(ROUTE_SCOPES, DEFAULT_ROUTE_SCOPE));
  app.use(jsonBody(deps.bodyLimitBytes));
  app.use(evciRouter(deps.ingestor));
  app.use(eventsRouter(deps.ingestor, deps.store, deps.statusReaders));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return app;
}
