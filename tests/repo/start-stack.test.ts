import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  createTestSchema,
  createTestVhost,
  eventually,
  tcpAnswers,
  testServers,
  uniqueName,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { REPO_ROOT } from './prettier-format';

interface StackService {
  name: string;
  dir: string;
  port: number;
}

const { STACK_SERVICES } = createRequire(__filename)('../../scripts/stack-services.js') as {
  STACK_SERVICES: StackService[];
};

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

/** An offset that puts all four stack ports on free ports (8080 + offset …). */
async function freeOffset(): Promise<number> {
  for (;;) {
    const offset = 20_000 + Math.floor(Math.random() * 20_000);
    const busy = await Promise.all(
      STACK_SERVICES.map((s) => tcpAnswers('127.0.0.1', s.port + offset)),
    );
    if (!busy.some(Boolean)) return offset;
  }
}

describe('scripts/start-stack.js (pnpm start)', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  const stacks: Stack[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('start stack', { migrate: false });
    vhost = await createTestVhost('start stack');
  });

  afterAll(async () => {
    for (const stack of stacks) {
      if (stack.child.exitCode === null) stack.child.kill('SIGKILL');
    }
    await schema.drop();
    await vhost.drop();
  });

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
        STACK_SKIP_BOOTSTRAP: 'true',
        STACK_READY_TIMEOUT_MS: '60000',
        LOG_LEVEL: 'info',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stack = new Stack(child, offset);
    stacks.push(stack);
    return stack;
  }

  it('migrates, starts every built service on its port with prefixed logs, says where things are, and stops them all on SIGTERM', async () => {
    const stack = await startStack();
    await eventually(() => expect(stack.text()).toContain('Reten is running'), {
      timeoutMs: 90_000,
    });
    const gatewayPort = 8080 + stack.offset;
    expect(stack.text()).toContain(`http://localhost:${gatewayPort}/api/v1/events`);
    expect(stack.text()).toContain('WEBHOOK_ALLOW_PRIVATE=true');
    expect(stack.text()).toContain('http://localhost:15672');
    expect(stack.text()).toMatch(/^gateway +\| .*gateway listening/m);
    const ready = await fetch(`http://127.0.0.1:${gatewayPort}/readyz`);
    expect(ready.status).toBe(200);

    const tables = await schema.pool.query(
      'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
      [schema.schema],
    );
    expect((tables.rows[0] as { n: number }).n).toBeGreaterThan(0);

    stack.child.kill('SIGTERM');
    expect(await stack.exited).toBe(0);
    expect(stack.text()).toMatch(/^stack +\| stopped$/m);
    expect(await tcpAnswers('127.0.0.1', gatewayPort)).toBe(false);
  });

  it('stops the others and exits non-zero when a service dies at start', async () => {
    // Only the gateway reads BODY_LIMIT_BYTES; below its minimum it refuses to start.
    const stack = await startStack({ BODY_LIMIT_BYTES: '1' });
    expect(await stack.exited).not.toBe(0);
    expect(stack.text()).toMatch(/gateway died \(exit code 2\): stopping the stack/);
    expect(stack.text()).not.toContain('Reten is running');
    for (const service of STACK_SERVICES) {
      expect(await tcpAnswers('127.0.0.1', service.port + stack.offset)).toBe(false);
    }
  });
});
