import path from 'node:path';
import express from 'express';
import type { Express } from 'express';
import { errorHandler, notFoundHandler, opsRouter, requestMetrics } from '@reten/http';
import type { Lifecycle, Logger, ReadinessCheck, Registry } from '@reten/observability';
import { databaseUnavailableError } from '@reten/store';

/** The browser example page and its script. */
export const PUBLIC_DIR = path.resolve(__dirname, '../public');

export interface StreamAppDeps {
  registry: Registry;
  lifecycle: Lifecycle;
  readiness: ReadinessCheck[];
  log: Logger;
}

/** The plain-HTTP side of the stream service: health, metrics and the example page at `/`. */
export function createStreamApp(deps: StreamAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestMetrics(deps.registry));
  app.use(
    opsRouter({ registry: deps.registry, lifecycle: deps.lifecycle, checks: deps.readiness }),
  );
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.log, { dependencyError: databaseUnavailableError }));
  return app;
}
