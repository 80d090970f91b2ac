import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');

/** infra/grafana/dashboards/reten.json, the dashboard Grafana provisions. */
export const DASHBOARD_FILE = path.join(ROOT, 'infra/grafana/dashboards/reten.json');

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
  gridPos: { h: number; w: number; x: number; y: number };
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; query: string | { query: string } }[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel that shows data (rows' nested panels included), rows left out. */
export function dataPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
}

/** Every PromQL query of the dashboard: panel targets and template variable queries. */
export function dashboardQueries(dashboard: Dashboard): { where: string; expr: string }[] {
  const panels = dataPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${p.title} (${t.refId})`, expr: t.expr })),
  );
  const variables = dashboard.templating.list.map((v) => ({
    where: `variable $${v.name}`,
    expr: typeof v.query === 'string' ? v.query : v.query.query,
  }));
  return [...panels, ...variables];
}

const NOT_METRICS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL query reads: identifiers that are not functions, keywords, label
 * names or Grafana variables. `label_values(metric, label)` (a Grafana variable query) names
 * its metric.
 */
export function metricNames(expr: string): string[] {
  const labelValues = /^label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(expr);
  if (labelValues) return [labelValues[1]!];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\$\{?\w+\}?/g, '') // Grafana variables ($__rate_interval, $eworker)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = stripped.slice(m.index + m[0].length);
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation
    if (NOT_METRICS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** A YAML file as plain data, through PyYAML (present with docker-compose, see test-prereqs). */
export function readYaml<T>(file: string): T {
  const json = execFileSync(
    'python3',
    [
      '-c',
      'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)',
      file,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(json) as T;
}
