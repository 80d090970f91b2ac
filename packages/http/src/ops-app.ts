import express from 'express';
import type { Express } from 'express';
import type { Logger } from '@reten/observability';
import { errorHandler, notFoundHandler } from './errors';
import { opsRouter } from './ops-routes';
import type { OpsOptions } from './ops-routes';

/**
 * The HTTP app of a worker without an API of its own: `/healthz`, `/readyz`, `/metrics`, and
 * the error envelope for everything else.
 */
export function opsApp(options: OpsOptions & { log: Logger }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(opsRouter(options));
  app.use(notFoundHandler);
  app.use(errorHandler(options.log));
  return app;
}
