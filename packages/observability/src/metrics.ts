import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { traceExportFailures } from './tracing';

/** A Prometheus registry with Node's default metrics and a `service` label on every series. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  let counted = 0;
  new Counter({
    name: 'reten_trace_export_failures_total',
    help: 'Span batches the OTLP exporter failed to send (collector down, slow or refusing)',
    registers: [registry],
    collect() {
      const now = traceExportFailures();
      if (now > counted) this.inc(now - counted);
      counted = now;
    },
  });
  return registry;
}

/**
 * Buckets of the lag histograms (acceptance of an event to published, processed, delivered,
 * streamed), in seconds: 5 ms on a quiet stack up to an hour behind a long outage.
 */
export const LAG_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/** Seconds from `fromMs` to `nowMs` (epoch ms), never negative (clocks of two hosts differ). */
export function lagSeconds(fromMs: number, nowMs: number): number {
  return Math.max(0, nowMs - fromMs) / 1000;
}

export { Counter, Gauge, Histogram, Registry } from 'prom-client';
