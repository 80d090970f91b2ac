import path from 'node:path';
import {
  ServiceProcess,
  TEST_JWT_SECRET,
  createTestSchema,
  createTestVhost,
  freePort,
  testServers,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { STACK_SERVICES } from '../repo/stack-services';
import { dashboardQueries, metricNames, readDashboard } from '../repo/grafana-dashboard';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Series that exist in Prometheus without any service exporting them: `up` is written by
 * Prometheus itself for every scrape target (infra/prometheus/prometheus.yml).
 */
const MADE_BY_PROMETHEUS = ['up'];

/**
 * The sample names a /metrics text page can hold: every `# TYPE` family, with the series a
 * histogram or summary family is written as.
 */
function exportedNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.push(name);
    if (type === 'histogram') names.push(`${name}_bucket`, `${name}_sum`, `${name}_count`);
    if (type === 'summary') names.push(`${name}_sum`, `${name}_count`);
  }
  return names;
}

describe('the Grafana dashboard against the services as they run', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  const running: { name: string; proc: ServiceProcess; port: number }[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('grafana_metrics');
    vhost = await createTestVhost('grafana_metrics');
    const { redisUrl } = await testServers();
    // every process `pnpm start` runs (scripts/stack-services.js), as the stack starts them
    for (const service of STACK_SERVICES) {
      const port = await freePort();
      const proc = await ServiceProcess.start({
        script: path.join(ROOT, service.dir, 'dist/main.js'),
        env: {
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          JWT_SECRET: TEST_JWT_SECRET,
          DATABASE_URL: schema.databaseUrl,
          DATABASE_SCHEMA: schema.schema,
          DATABASE_POOL_SIZE: '3',
          RABBITMQ_URL: vhost.url,
          REDIS_URL: redisUrl,
          REDIS_KEY_PREFIX: `${schema.schema}:`,
          MIGRATE_ON_START: 'false',
        },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
        readyTimeoutMs: 60_000,
      });
      running.push({ name: service.name, proc, port });
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all(running.map((r) => r.proc.kill()));
    await vhost?.drop();
    await schema?.drop();
  });

  it('names in every query only metrics that some service of the stack exports on /metrics', async () => {
    const exported = new Set(MADE_BY_PROMETHEUS);
    for (const { name, port } of running) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
        signal: AbortSignal.timeout(10_000),
      });
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      for (const metric of exportedNames(await res.text())) exported.add(metric);
    }
    const queries = dashboardQueries(readDashboard());
    expect(queries.length).toBeGreaterThan(20);
    const unknown = queries.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((metric) => !exported.has(metric))
        .map((metric) => `${where}: ${metric}`),
    );
    expect(unknown).toEqual([]);
  });
});
