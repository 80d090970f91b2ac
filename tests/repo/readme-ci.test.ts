import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientLogSchema } from '../../services/eworkers/logs/src/client-log-schema';
import { REPO_ROOT } from './prettier-format';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const ciRun = readFileSync(path.join(REPO_ROOT, '.ci/run'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  packageManager: string;
  engines: Record<string, string>;
  scripts: Record<string, string>;
};

/** The shell commands of the README's quick start: the lines of its ```sh blocks. */
function quickStartCommands(): string[] {
  const start = readme.indexOf('## Quick start');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!.split('\n').filter((line) => line.trim() !== ''),
  );
}

describe('README quick start', () => {
  const commands = quickStartCommands();

  it('is exactly two commands: install then start the stack, install then run every test', () => {
    expect(commands).toEqual([
      'npx -y pnpm@10 install --frozen-lockfile && npx -y pnpm@10 start',
      'npx -y pnpm@10 install --frozen-lockfile && npx -y pnpm@10 test',
    ]);
  });

  it('uses the pnpm major that package.json pins, and scripts that exist', () => {
    expect(pkg.packageManager).toMatch(/^pnpm@10\./);
    expect(pkg.engines.pnpm).toBe('>=10 <11');
    expect(pkg.scripts.start).toBe(
      'tsc -b && node packages/console/scripts/build.mjs && node scripts/start-stack.js',
    );
    expect(pkg.scripts.test).toBe('bash scripts/test-prereqs.sh && bash scripts/run-tests.sh');
  });

  it('shows curl examples that send an event through EVCI and REST and read it back with the dev key', () => {
    const section = readme.slice(readme.indexOf('## Try it'), readme.indexOf('\n## Webhooks'));
    expect(section).toContain('POST http://localhost:8080/v1.0/event/log:ClientLog');
    expect(section).toContain('POST http://localhost:8080/api/v1/events');
    expect(section).toContain('http://localhost:8080/api/v1/events/$EVENT_ID');
    expect(section).toContain('-H "Authorization: Bearer $(cat .reten/dev-api-key)"');
  });

  it('sends a log:ClientLog body that the client-log eworker accepts', () => {
    const evci = readme.slice(
      readme.indexOf('POST http://localhost:8080/v1.0/event/log:ClientLog'),
    );
    const body = /-d '([^']*)'/.exec(evci)?.[1];
    expect(body).toBeDefined();
    const parsed = ClientLogSchema.safeParse(JSON.parse(body!));
    expect(parsed.error?.issues).toBeUndefined();
  });

  it('links only to files and folders that exist in the repository', () => {
    const targets = [...readme.matchAll(/\]\(([^)]+)\)/g)]
      .map((m) => m[1]!)
      .filter((target) => !/^[a-z]+:/.test(target))
      // a link may point into a file (`README.md#key-rotation`): the file must exist
      .map((target) => target.replace(/#.*$/, ''))
      .filter((target) => target !== '');
    expect(targets.length).toBeGreaterThan(10);
    const missing = targets.filter((target) => !existsSync(path.join(REPO_ROOT, target)));
    expect(missing).toEqual([]);
  });
});

describe('package and service READMEs', () => {
  /** Every workspace folder under packages/ and services/ (those with a package.json). */
  function workspaceFolders(): string[] {
    const folders: string[] = [];
    for (const parent of ['packages', 'services', 'services/eworkers']) {
      for (const name of readdirSync(path.join(REPO_ROOT, parent))) {
        if (existsSync(path.join(REPO_ROOT, parent, name, 'package.json'))) {
          folders.push(`${parent}/${name}`);
        }
      }
    }
    return folders;
  }

  it('exist in every package and service folder, and the README links to each', () => {
    const folders = workspaceFolders();
    expect(folders.length).toBeGreaterThan(10);
    expect(folders.filter((dir) => !existsSync(path.join(REPO_ROOT, dir, 'README.md')))).toEqual(
      [],
    );
    expect(folders.filter((dir) => !readme.includes(`](${dir})`))).toEqual([]);
  });
});

describe('.ci/run', () => {
  it('runs the README test command verbatim, after starting whichever server is down', () => {
    const lines = ciRun.split('\n').map((line) => line.trim());
    expect(lines[0]).toBe('#!/usr/bin/env bash');
    expect(lines).toContain('set -euo pipefail');
    const servers = lines.indexOf('bash scripts/ensure-servers.sh');
    const tests = lines.indexOf(quickStartCommands()[1]!);
    expect(servers).toBeGreaterThan(0);
    expect(tests).toBeGreaterThan(servers);
  });

  describe('with the test command stubbed (a fake npx on PATH)', () => {
    let dir: string;

    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'reten-ci-run-'));
      // install succeeds; `test` prints a jest summary then pnpm's own failure notice
      writeFileSync(
        path.join(dir, 'npx'),
        [
          '#!/usr/bin/env bash',
          'case "$*" in',
          '  *install*) [ "$FAKE_INSTALL" = fail ] && exit 1; exit 0 ;;',
          '  *test*) echo "jest: 7 passed, $FAKE_FAILED failed, 0 skipped"',
          '          [ "$FAKE_FAILED" = 0 ] && exit 0',
          "          echo ' ELIFECYCLE  Test failed. See above for more details.' >&2; exit 1 ;;",
          'esac',
        ].join('\n'),
      );
      chmodSync(path.join(dir, 'npx'), 0o755);
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    function ciRunWith(env: Record<string, string>) {
      const run = spawnSync('bash', ['.ci/run'], {
        cwd: REPO_ROOT,
        env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, ...env },
        encoding: 'utf8',
        timeout: 120_000,
      });
      const lines = `${run.stdout}`.trimEnd().split('\n');
      return { status: run.status, last: lines[lines.length - 1] };
    }

    it('exits 0 and ends with the jest summary line when every test passes', () => {
      expect(ciRunWith({ FAKE_FAILED: '0' })).toEqual({
        status: 0,
        last: 'jest: 7 passed, 0 failed, 0 skipped',
      });
    });

    it('exits non-zero and still ends with the jest summary line when a test fails', () => {
      const run = ciRunWith({ FAKE_FAILED: '2' });
      expect(run.status).not.toBe(0);
      expect(run.last).toBe('jest: 7 passed, 2 failed, 0 skipped');
    });

    it('exits non-zero and says jest did not run when the install fails', () => {
      const run = ciRunWith({ FAKE_INSTALL: 'fail', FAKE_FAILED: '0' });
      expect(run.status).not.toBe(0);
      expect(run.last).toMatch(/^jest: not run/);
    });
  });
});

describe('scripts/run-tests.sh', () => {
  it('runs build, type-check, ESLint and Prettier, then jest last (so its summary line ends the run)', () => {
    const script = readFileSync(path.join(REPO_ROOT, 'scripts/run-tests.sh'), 'utf8');
    const order = ['step build', 'step typecheck', 'step eslint', 'step prettier', '"$bin/jest"'];
    const positions = order.map((needle) => script.indexOf(needle));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(execFileSync('bash', ['-n', 'scripts/run-tests.sh'], { cwd: REPO_ROOT })).toBeDefined();
  });
});
