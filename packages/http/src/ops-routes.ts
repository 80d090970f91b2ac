import { Router } from 'express';
import { checkReadiness } from '@reten/observability';
import type { Lifecycle, ReadinessCheck, Registry } from '@reten/observability';

export interface OpsOptions {
  registry: Registry;
  lifecycle: Lifecycle;
  checks: ReadinessCheck[];
}

/** `/healthz` (the process is alive), `/readyz` (it should get traffic), `/metrics`. */
export function opsRouter(options: OpsOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    const alive = options.lifecycle.state !== 'failed';
    res
      .status(alive ? 200 : 503)
      .json({ status: alive ? 'ok' : 'failed', state: options.lifecycle.state });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await checkReadiness(options.lifecycle, options.checks);
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'unready', ...report });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', options.registry.contentType);
    res.send(await options.registry.metrics());
  });
  return router;
}
