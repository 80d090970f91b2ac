import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './prettier-format';

/**
 * A PATH with every command of this machine but docker-compose and sudo, and an apt-get that
 * fails as it does without a network: a machine that cannot install docker-compose.
 */
function pathWithoutDockerCompose(dir: string): string {
  for (const source of (process.env.PATH ?? '').split(':')) {
    if (!source || !existsSync(source)) continue;
    for (const name of readdirSync(source)) {
      const link = path.join(dir, name);
      const hidden = ['docker-compose', 'apt-get', 'sudo'].includes(name);
      if (hidden || existsSync(link)) continue;
      symlinkSync(path.join(source, name), link);
    }
  }
  writeFileSync(
    path.join(dir, 'apt-get'),
    '#!/bin/sh\necho "E: Unable to locate package docker-compose" >&2\nexit 100\n',
    { mode: 0o755 },
  );
  return dir;
}

describe('scripts/test-prereqs.sh', () => {
  it('fails loudly, never silently, when docker-compose is missing and cannot be installed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reten-prereqs-'));
    try {
      const run = spawnSync('bash', ['scripts/test-prereqs.sh'], {
        cwd: REPO_ROOT,
        env: { ...process.env, PATH: pathWithoutDockerCompose(dir) },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.status).not.toBe(0);
      if (process.getuid?.() === 0) {
        expect(run.stderr).toContain('test-prereqs: installing docker-compose');
        expect(run.stderr).toContain('Unable to locate package docker-compose');
      } else {
        expect(run.stderr).toContain('test-prereqs: docker-compose is missing');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('succeeds when the servers answer and docker-compose is installed', () => {
    const run = spawnSync('bash', ['scripts/test-prereqs.sh'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).toContain('PostgreSQL, Redis and RabbitMQ answer on 127.0.0.1');
    expect(run.status).toBe(0);
  });
});
