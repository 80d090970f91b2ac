import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestSchema, createTestVhost, freePort, ServiceProcess } from '@reten/testing';
import { GATEWAY_MAIN } from './gateway-process';

const STREAM_MAIN = path.resolve(__dirname, '../../services/stream/dist/main.js');
const BOOTSTRAP = path.resolve(__dirname, '../../services/gateway/dist/bootstrap-cli.js');

/** The environment of this test run without any JWT or RETEN_ENV setting of its own. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('JWT_') || key === 'RETEN_ENV') delete env[key];
  }
  return env;
}

/** Runs a script with `env` added; resolves with its exit code and stderr (bounded). */
function run(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...cleanEnv(), PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} did not exit:\n${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe.each([
  ['gateway', GATEWAY_MAIN],
  ['stream', STREAM_MAIN],
])('the %s process and the published development JWT_SECRET', (_name, script) => {
  it('exits 2 naming JWT_SECRET and RETEN_ENV when no secret is set', async () => {
    const { code, stderr } = await run(script, {});
    expect(code).toBe(2);
    expect(stderr).toMatch(/JWT_SECRET: the published development default is refused/);
    expect(stderr).toContain('RETEN_ENV=development');
  });

  it('exits 2 when the published secret is set explicitly, or as JWT_SECRET_PREVIOUS', async () => {
    const explicit = await run(script, { JWT_SECRET: 'reten-dev-jwt-secret-change-me' });
    expect([explicit.code, explicit.stderr]).toEqual([2, expect.stringContaining('JWT_SECRET:')]);
    const previous = await run(script, {
      JWT_SECRET: 'a-secret-of-our-own-0123456789',
      JWT_SECRET_PREVIOUS: 'reten-dev-jwt-secret-change-me',
      RETEN_ENV: 'production',
    });
    expect([previous.code, previous.stderr]).toEqual([
      2,
      expect.stringContaining('JWT_SECRET_PREVIOUS:'),
    ]);
  });
});

describe('a gateway process with RETEN_ENV=development', () => {
  it('starts with the published secret and says it is in development mode', async () => {
    const schema = await createTestSchema('jwt dev secret');
    const vhost = await createTestVhost('jwt dev secret');
    const port = await freePort();
    let proc: ServiceProcess | undefined;
    try {
      proc = await ServiceProcess.start({
        script: GATEWAY_MAIN,
        env: {
          RETEN_ENV: 'development',
          JWT_SECRET: '',
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          DATABASE_URL: schema.databaseUrl,
          DATABASE_SCHEMA: schema.schema,
          DATABASE_POOL_SIZE: '3',
          RABBITMQ_URL: vhost.url,
        },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
        readyTimeoutMs: 30_000,
      });
      expect(proc.output.join('')).toContain(
        'development mode: tokens signed with the published development JWT_SECRET are accepted',
      );
    } finally {
      await proc?.kill('SIGTERM');
      await schema.drop();
      await vhost.drop();
    }
  });
});

describe('the auth bootstrap', () => {
  it('needs no JWT setting: it only writes rows (exit 0 with the published default)', async () => {
    const schema = await createTestSchema('jwt dev bootstrap', { migrate: false });
    const home = mkdtempSync(path.join(tmpdir(), 'reten-home-'));
    try {
      const { code, stderr } = await run(BOOTSTRAP, {
        DATABASE_URL: schema.databaseUrl,
        DATABASE_SCHEMA: schema.schema,
        RETEN_HOME: home,
        LOG_LEVEL: 'warn',
      });
      expect([code, stderr]).toEqual([0, '']);
    } finally {
      rmSync(home, { recursive: true, force: true });
      await schema.drop();
    }
  });
});
