import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createTestSchema,
  createTestVhost,
  eventually,
  tcpAnswers,
  testServers,
  uniqueName,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { STACK_SERVICES } from './stack-services';
import { REPO_ROOT } from './prettier-format';

/** `pnpm start`'s process (after `tsc -b`), with its output kept. */
class Stack {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly offset: number,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
  }

  text(): string {
    return this.output.join('');
  }
}

/**
 * An offset that puts all the stack's ports on free ports (8080 + offset …), below Linux's
 * ephemeral range (32768 and up by default): a port in that range that answers nothing now can
 * be taken a moment later as the local port of another test's connection, and the service
 * listening there fails with EADDRINUSE (seen in CI: 33328).
 */
async function freeOffset(): Promise<number> {
  for (;;) {
    const offset = 2_000 + Math.floor(Math.random() * 22_000);
    const busy = await Promise.all(
      STACK_SERVICES.map((s) => tcpAnswers('127.0.0.1', s.port + offset)),
    );
    if (!busy.some(Boolean)) return offset;
  }
}

describe('scripts/start-stack.js (pnpm start)', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  // the bootstrap writes the dev key here (RETEN_HOME), not into the repository's .reten
  let home: string;
  const stacks: Stack[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('start stack', { migrate: false });
    vhost = await createTestVhost('start stack');
    home = mkdtempSync(path.join(tmpdir(), 'reten-home-'));
  });

  afterAll(async () => {
    // SIGTERM lets the stack stop its children (SIGKILL would orphan them)
    for (const stack of stacks) {
      if (stack.child.exitCode === null && stack.child.signalCode === null) {
        stack.child.kill('SIGTERM');
        await Promise.race([stack.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
      }
    }
    await schema.drop();
    await vhost.drop();
    rmSync(home, { recursive: true, force: true });
  }, 120_000);

  async function startStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
    const servers = await testServers();
    const offset = await freeOffset();
    const child = spawn(process.execPath, ['scripts/start-stack.js'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: servers.databaseUrl,
        DATABASE_SCHEMA: schema.schema,
        RABBITMQ_URL: vhost.url,
        REDIS_URL: servers.redisUrl,
        REDIS_KEY_PREFIX: `${uniqueName('start stack')}:`,
        STACK_PORT_OFFSET: String(offset),
        RETEN_HOME: home,
        STACK_READY_TIMEOUT_MS: '120000',
        LOG_LEVEL: 'info',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stack = new Stack(child, offset);
    stacks.push(stack);
    return stack;
  }

  it('migrates, bootstraps the dev key, starts every built service on its port with prefixed logs, serves the README flow, and stops them all on SIGTERM', async () => {
    const stack = await startStack();
    // up to the banner's last line: its lines may come in more than one read of the pipe
    await eventually(() => expect(stack.text()).toMatch(/Reten is running[\s\S]*RETEN_ENV=/), {
      timeoutMs: 150_000,
    });
    const gatewayPort = 8080 + stack.offset;
    expect(stack.text()).toContain(`http://localhost:${gatewayPort}/api/v1/events`);
    expect(stack.text()).toContain('WEBHOOK_ALLOW_PRIVATE=true');
    // development mode, which accepts the published JWT_SECRET, is said in the banner
    expect(stack.text()).toContain('RETEN_ENV=development: development mode');
    expect(stack.text()).toContain('http://localhost:15672');
    expect(stack.text()).toMatch(/^gateway +\| .*gateway listening/m);
    for (const service of STACK_SERVICES) {
      expect(stack.text()).toMatch(new RegExp(`^${service.name} +\\| `, 'm'));
    }

    // the README's curl flow, with the key the bootstrap wrote
    const key = readFileSync(path.join(home, 'dev-api-key'), 'utf8').trim();
    expect(stack.text()).toContain(path.join(home, 'dev-api-key'));
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const sent = await fetch(`http://127.0.0.1:${gatewayPort}/v1.0/event/order.created`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ order_id: 'ord_789' }),
    });
    expect(sent.status).toBe(202);
    const { event_id: eventId } = (await sent.json()) as { event_id: string };
    const read = await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/events/${eventId}`, {
      headers,
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(
      expect.objectContaining({ event_id: eventId, data: { order_id: 'ord_789' } }),
    );

    // every http address the stack prints answers (with the dev key)
    for (const service of STACK_SERVICES) {
      for (const [, url] of service.urls.filter(([, u]) => u.startsWith('http'))) {
        const shifted = url.replace(`:${service.port}`, `:${service.port + stack.offset}`);
        expect(stack.text()).toContain(shifted);
        expect([shifted, (await fetch(shifted, { headers })).status]).toEqual([shifted, 200]);
      }
    }

    // the README's log:ClientLog example reaches the client-log eworker
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const evci = readme.slice(readme.indexOf('/v1.0/event/log:ClientLog'));
    const log = await fetch(`http://127.0.0.1:${gatewayPort}/v1.0/event/log:ClientLog`, {
      method: 'POST',
      headers,
      body: /-d '([^']*)'/.exec(evci)![1]!,
    });
    expect(log.status).toBe(202);
    const { event_id: logId } = (await log.json()) as { event_id: string };
    await eventually(
      async () => {
        const detail = await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/events/${logId}`, {
          headers,
        });
        expect(await detail.json()).toEqual(
          expect.objectContaining({
            eworkers: [expect.objectContaining({ eworker: 'logs', status: 'processed' })],
          }),
        );
      },
      { timeoutMs: 30_000 },
    );

    stack.child.kill('SIGTERM');
    expect(await stack.exited).toBe(0);
    expect(stack.text()).toMatch(/^stack +\| stopped$/m);
    expect(await tcpAnswers('127.0.0.1', gatewayPort)).toBe(false);
  }, 200_000);

  it('refuses to start when no service reads a RETEN_* variable it was given', async () => {
    const stack = await startStack({ RETEN_NO_SUCH_SETTING: '1' });
    expect(await stack.exited).not.toBe(0);
    expect(stack.text()).toContain('no service reads RETEN_NO_SUCH_SETTING');
  });

  it('stops the others and exits non-zero when a service dies at start', async () => {
    // Only the stream service reads STREAM_MAX_CONNECTIONS; below its minimum it refuses to start.
    const stack = await startStack({ STREAM_MAX_CONNECTIONS: '0' });
    expect(await stack.exited).not.toBe(0);
    expect(stack.text()).toMatch(/stream died \(exit code [1-9]\d*\): stopping the stack/);
    expect(stack.text()).not.toContain('Reten is running');
    for (const service of STACK_SERVICES) {
      expect(await tcpAnswers('127.0.0.1', service.port + stack.offset)).toBe(false);
    }
  });
});
