import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { STACK_SERVICES } from './stack-services';
import { REPO_ROOT } from './prettier-format';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | null>;
  ports?: unknown[];
  volumes?: unknown[];
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition: string }>;
}

/**
 * `docker-compose config` (Debian's docker-compose 1.29, installed by scripts/test-prereqs.sh:
 * it validates the file without a Docker engine), as JSON through PyYAML, which it depends on.
 */
function composeConfig(): { services: Record<string, ComposeService> } {
  const yaml = execFileSync('docker-compose', ['config'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const json = execFileSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: yaml, encoding: 'utf8' },
  );
  return JSON.parse(json) as { services: Record<string, ComposeService> };
}

/** Every deployable under services/ (and services/eworkers/*): folders with a package.json. */
function serviceFolders(): string[] {
  const folders: string[] = [];
  for (const name of readdirSync(path.join(REPO_ROOT, 'services'))) {
    if (name === 'eworkers') {
      for (const eworker of readdirSync(path.join(REPO_ROOT, 'services/eworkers'))) {
        if (existsSync(path.join(REPO_ROOT, 'services/eworkers', eworker, 'package.json'))) {
          folders.push(`services/eworkers/${eworker}`);
        }
      }
    } else if (existsSync(path.join(REPO_ROOT, 'services', name, 'package.json'))) {
      folders.push(`services/${name}`);
    }
  }
  return folders.sort();
}

describe('docker-compose.yml', () => {
  it('is valid for docker-compose (`docker-compose config -q` succeeds)', () => {
    expect(() =>
      execFileSync('docker-compose', ['config', '-q'], { cwd: REPO_ROOT, stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('lists every service folder in the stack list that pnpm start uses', () => {
    expect(STACK_SERVICES.map((s) => s.dir).sort()).toEqual(serviceFolders());
  });

  describe('every service of the stack', () => {
    const { services } = composeConfig();
    const image = services.gateway?.image;

    it.each(STACK_SERVICES.map((s) => [s.name, s] as const))(
      '%s runs its dist/main.js from the one image, on its port, with its readiness healthcheck',
      (name, service) => {
        const entry = services[name];
        expect(entry).toBeDefined();
        expect(entry!.image).toBe(image);
        expect(entry!.command).toEqual(['node', `${service.dir}/dist/main.js`]);
        expect(entry!.environment).toEqual(
          expect.objectContaining({
            PORT: String(service.port),
            WEBHOOK_ALLOW_PRIVATE: 'true',
            JWT_SECRET: expect.any(String),
            DATABASE_URL: expect.stringContaining('@postgres:5432/'),
            RABBITMQ_URL: expect.stringContaining('@rabbitmq:5672'),
            REDIS_URL: 'redis://redis:6379',
          }),
        );
        expect(JSON.stringify(entry!.healthcheck?.test)).toContain('/readyz');
        expect(entry!.depends_on).toEqual({
          migrate: { condition: 'service_completed_successfully' },
          postgres: { condition: 'service_healthy' },
          rabbitmq: { condition: 'service_healthy' },
          redis: { condition: 'service_healthy' },
        });
      },
    );

    it('passes a service only the RETEN_* variables it reads (an unknown one stops it at start)', () => {
      for (const { name, dir, config } of STACK_SERVICES) {
        const own = Object.keys(services[name]?.environment ?? {}).filter((k) =>
          k.startsWith('RETEN_'),
        );
        const shape = createRequire(__filename)(
          path.join(REPO_ROOT, dir, `${config[0]}.ts`),
        ) as Record<string, Record<string, unknown>>;
        const keys = Object.keys(
          Object.entries(shape).find(([key]) => key.endsWith('ConfigShape'))?.[1] ?? {},
        );
        expect({ [name]: own.filter((key) => !keys.includes(key)) }).toEqual({ [name]: [] });
      }
    });

    it('runs the gateway and the stream in development mode, which accepts the published JWT_SECRET', () => {
      for (const name of ['gateway', 'stream']) {
        expect(services[name]?.environment?.RETEN_ENV).toBe('development');
      }
    });

    it('runs migrations and the auth bootstrap once, in a one-shot built from the Dockerfile', () => {
      const migrate = services.migrate!;
      expect(migrate.build).toBeDefined();
      expect(migrate.image).toBe(image);
      expect(JSON.stringify(migrate.command)).toContain('packages/store/dist/migrate-cli.js');
      expect(JSON.stringify(migrate.command)).toContain('bootstrap-cli.js');
      expect(JSON.stringify(migrate.command)).toContain(
        'env -u RETEN_BOOTSTRAP_API_KEY node packages/store/dist/migrate-cli.js',
      );
      expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    });

    it('runs RabbitMQ 4 with the management UI on 15672 and the generated definitions loaded', () => {
      const rabbit = services.rabbitmq!;
      expect(rabbit.image).toMatch(/^rabbitmq:4[.\d]*-management/);
      expect(JSON.stringify(rabbit.ports)).toContain('15672');
      const volumes = JSON.stringify(rabbit.volumes);
      expect(volumes).toContain('infra/rabbitmq/definitions.json:/etc/rabbitmq/definitions.json');
      expect(volumes).toContain('infra/rabbitmq/enabled_plugins:/etc/rabbitmq/enabled_plugins');
      expect(volumes).toContain('infra/rabbitmq/rabbitmq.conf:/etc/rabbitmq/conf.d/');
      const conf = readFileSync(path.join(REPO_ROOT, 'infra/rabbitmq/rabbitmq.conf'), 'utf8');
      expect(conf).toMatch(/^load_definitions = \/etc\/rabbitmq\/definitions\.json$/m);
      const plugins = readFileSync(path.join(REPO_ROOT, 'infra/rabbitmq/enabled_plugins'), 'utf8');
      expect(plugins.trim()).toBe('[rabbitmq_management,rabbitmq_prometheus].');
    });

    it('gives PostgreSQL 16, RabbitMQ and Redis healthchecks', () => {
      expect(services.postgres?.image).toBe('postgres:16');
      for (const name of ['postgres', 'rabbitmq', 'redis']) {
        expect(services[name]?.healthcheck?.test).toBeDefined();
      }
    });
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('builds on node:22-bookworm-slim with pnpm 10 from npm, the frozen lockfile and tsc -b', () => {
    expect(dockerfile).toMatch(/^FROM node:22-bookworm-slim AS build$/m);
    expect(dockerfile).toContain('npm i -g pnpm@10');
    expect(dockerfile).toContain('pnpm install --frozen-lockfile');
    expect(dockerfile).toContain('tsc -b');
  });

  it('ends in a slim runtime stage with production dependencies only, not running as root', () => {
    const stages = dockerfile.match(/^FROM .*$/gm) ?? [];
    expect(stages).toEqual([
      'FROM node:22-bookworm-slim AS build',
      'FROM node:22-bookworm-slim AS runtime',
    ]);
    expect(dockerfile).toContain('--prod');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/^COPY --from=build \/app\/(tests|bench|scripts)/m);
  });

  it('is not sent node_modules, build output or local secrets (.dockerignore)', () => {
    const ignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.reten', '.env', '.git']) {
      expect(ignore).toContain(entry);
    }
  });
});
