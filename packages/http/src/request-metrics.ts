import type { RequestHandler } from 'express';
import { Histogram } from '@reten/observability';
import type { Registry } from '@reten/observability';

/** Records `http_request_duration_seconds{method,route,status}`; route is the matched pattern. */
export function requestMetrics(registry: Registry): RequestHandler {
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof routePath === 'string' ? `${req.baseUrl}${routePath}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      histogram.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
    });
    next();
  };
}
