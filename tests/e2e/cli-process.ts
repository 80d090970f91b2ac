import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/** The `reten` bin as a clone has it (it runs `packages/cli/dist`: `tsc -b` first). */
export const CLI_BIN = path.resolve(__dirname, '../../packages/cli/bin/reten.js');

export interface CliOptions {
  /** `RETEN_*` variables; nothing of the test process's own `RETEN_*` leaks in. */
  env?: Record<string, string>;
  /** Working directory (default: the OS temp dir, outside the clone and its dev key). */
  cwd?: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[], options: CliOptions): ChildProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('RETEN_')),
  );
  return spawn(process.execPath, [CLI_BIN, ...args], {
    env: { ...inherited, ...options.env },
    cwd: options.cwd ?? os.tmpdir(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs one `reten` command to its end (killed past `timeoutMs`); resolves with its output. */
export function runCli(
  args: string[],
  options: CliOptions & { stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `reten` command (`tail`, `listen`) whose output a test watches. */
export class CliProcess {
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  static start(args: string[], options: CliOptions = {}): CliProcess {
    const proc = new CliProcess(spawnCli(args, options));
    proc.child.stdin?.end();
    return proc;
  }

  /** Complete stdout lines so far. */
  lines(): string[] {
    return this.stdout.split('\n').slice(0, -1);
  }

  /** Whether the process has exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ctrl-C: resolves with the exit status (SIGKILL if it does not end within 10 s). */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}
