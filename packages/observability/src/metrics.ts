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

export { Counter, Gauge, Histogram, Registry } from 'prom-client';
