import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { STACK_SERVICES } from './stack-services';
import { REPO_ROOT } from './prettier-format';

interface Rule {
  alert: string;
  expr: string;
  annotations?: { summary?: string };
}

/** A YAML file as plain data, through PyYAML (present with docker-compose, see test-prereqs). */
function readYaml<T>(file: string): T {
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

/** The text of every non-test TypeScript source file of packages/ and services/. */
function sourceText(): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist') continue;
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts'))
        texts.push(readFileSync(full, 'utf8'));
    }
  };
  walk(path.join(REPO_ROOT, 'packages'));
  walk(path.join(REPO_ROOT, 'services'));
  return texts.join('\n');
}

describe('infra/prometheus', () => {
  const config = readYaml<{
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  }>(path.join(REPO_ROOT, 'infra/prometheus/prometheus.yml'));
  const rules = readYaml<{ groups: { rules: Rule[] }[] }>(
    path.join(REPO_ROOT, 'infra/prometheus/alerts.yml'),
  ).groups.flatMap((group) => group.rules);

  it('scrapes every service of the stack on its port, and loads the alert rules', () => {
    const targets = config.scrape_configs.flatMap((job) =>
      job.static_configs.flatMap((c) => c.targets),
    );
    for (const service of STACK_SERVICES)
      expect(targets).toContain(`${service.name}:${service.port}`);
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
  });

  it('alerts on the outbox backlog, an inactive relay, parked events, failing deliveries and lag at each stage', () => {
    const exprs = rules.map((rule) => rule.expr).join('\n');
    for (const metric of [
      'reten_outbox_backlog',
      'reten_outbox_oldest_age_seconds',
      'reten_relay_active',
      'reten_eworker_events_total{outcome="parked"}',
      'reten_webhook_attempts_total',
      'reten_webhook_deliveries_total{status="failed"}',
      'reten_event_publish_lag_seconds_bucket',
      'reten_eworker_process_lag_seconds_bucket',
      'reten_webhook_delivery_lag_seconds_bucket{attempt="first"}',
      'reten_stream_lag_seconds_bucket',
    ]) {
      expect(exprs).toContain(metric);
    }
    for (const rule of rules) expect(rule.annotations?.summary).toBeTruthy();
  });

  it('only uses metrics that some service registers', () => {
    const source = sourceText();
    const used = new Set(
      rules.flatMap((rule) =>
        [...rule.expr.matchAll(/\breten_[a-z_]+/g)].map((m) =>
          m[0].replace(/_(bucket|sum|count)$/, ''),
        ),
      ),
    );
    const unknown = [...used].filter((metric) => !source.includes(`'${metric}'`));
    expect(unknown).toEqual([]);
  });

  it('documents in docs/operations.md only metrics that some service registers', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    const named = new Set([...doc.matchAll(/\b(?:reten|http)_[a-z_]+/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(10);
    const source = sourceText();
    expect([...named].filter((metric) => !source.includes(`'${metric}'`))).toEqual([]);
  });
});
