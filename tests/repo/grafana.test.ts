import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './prettier-format';
import {
  dashboardQueries,
  dataPanels,
  metricNames,
  readDashboard,
  readYaml,
} from './grafana-dashboard';

interface DataSources {
  apiVersion: number;
  datasources: { name: string; uid: string; type: string; url: string; isDefault?: boolean }[];
}

interface Providers {
  apiVersion: number;
  providers: { name: string; type: string; options: { path: string } }[];
}

interface ComposeGrafana {
  image: string;
  ports: unknown[];
  volumes: string[];
  environment: Record<string, string | null>;
  depends_on: Record<string, unknown>;
}

function composeGrafana(): ComposeGrafana | undefined {
  const yaml = execFileSync('docker-compose', ['config'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const json = execFileSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: yaml, encoding: 'utf8' },
  );
  return (JSON.parse(json) as { services: Record<string, ComposeGrafana> }).services.grafana;
}

const GRAFANA = path.join(REPO_ROOT, 'infra/grafana');

describe('infra/grafana', () => {
  const dashboard = readDashboard();
  const panels = dataPanels(dashboard);
  const datasources = readYaml<DataSources>(
    path.join(GRAFANA, 'provisioning/datasources/prometheus.yml'),
  );
  const providers = readYaml<Providers>(path.join(GRAFANA, 'provisioning/dashboards/reten.yml'));
  const grafana = composeGrafana();

  it('provisions the compose stack Prometheus as the default data source', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toEqual([
      expect.objectContaining({
        type: 'prometheus',
        uid: 'reten-prometheus',
        url: 'http://prometheus:9090',
        isDefault: true,
      }),
    ]);
  });

  it('gives every panel a query on that data source, with unique ids and a place on the grid', () => {
    const uid = datasources.datasources[0]!.uid;
    expect(panels.length).toBeGreaterThan(20);
    for (const panel of panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
        panel: panel.title,
        uid,
      });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr.trim()).not.toBe('');
        expect(target.datasource?.uid).toBe(uid);
      }
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
    const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows ingest, outbox and relay, eworkers, webhooks, streams and errors', () => {
    const exprs = dashboardQueries(dashboard)
      .map((q) => q.expr)
      .join('\n');
    for (const wanted of [
      'reten_events_accepted_total',
      'http_request_duration_seconds_bucket{service="gateway"',
      'reten_outbox_backlog',
      'reten_outbox_oldest_age_seconds',
      'reten_relay_publish_latency_seconds_bucket',
      'outcome="parked"',
      'reten_webhook_attempts_total{result="succeeded"}',
      'reten_webhook_attempt_duration_seconds_bucket',
      'reten_webhook_deliveries_total',
      'reten_webhook_endpoints_disabled_total',
      'reten_stream_connections',
      'reten_stream_slow_clients_dropped_total',
      'http_request_duration_seconds_count{status=~"5.."}',
      'reten_delivery_errors_total',
    ]) {
      expect(exprs).toContain(wanted);
    }
  });

  it('reads the metric names of a query, not its functions, labels or variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, eworker) (rate(a_b_bucket{eworker=~"$eworker", x="y z"}[$__rate_interval])))',
      ),
    ).toEqual(['a_b_bucket']);
    expect(metricNames('time() - max by (eworker) (last_ts{eworker=~"$eworker"})')).toEqual([
      'last_ts',
    ]);
    expect(metricNames('sum(rate(a_total[5m])) / sum(rate(b_total[5m])) or vector(0)')).toEqual([
      'a_total',
      'b_total',
    ]);
    expect(metricNames('label_values(reten_eworker_events_total, eworker)')).toEqual([
      'reten_eworker_events_total',
    ]);
  });

  it('loads the dashboards folder that compose mounts, and compose runs Grafana beside Prometheus', () => {
    expect(providers.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }),
      }),
    ]);
    expect(grafana).toBeDefined();
    expect(grafana!.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(grafana!.volumes).toEqual(
      expect.arrayContaining([
        `${GRAFANA}/provisioning:/etc/grafana/provisioning:ro`,
        `${GRAFANA}/dashboards:/var/lib/grafana/dashboards:ro`,
      ]),
    );
    expect(Object.keys(grafana!.depends_on)).toContain('prometheus');
    expect(JSON.stringify(grafana!.ports)).toContain('3000');
  });

  it('lets anonymous visitors view, and creates no admin account with a default password', () => {
    const env = grafana!.environment;
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    expect(env.GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION).toBe('true');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    // the dashboard opens as the home page
    expect(env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      '/var/lib/grafana/dashboards/reten.json',
    );
  });
});
