import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { eventually } from './eventually';

export interface ServiceProcessOptions {
  /** Path of the compiled entry point (`services/gateway/dist/main.js`). */
  script: string;
  env: Record<string, string>;
  /** URL that answers 200 once the service is ready. */
  readyUrl: string;
  readyTimeoutMs?: number;
}

/** A real service process started by an end-to-end test, with its output kept for failures. */
export class ServiceProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
  }

  /** Spawns the script with node and waits until `readyUrl` answers 200. */
  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const child = spawn(process.execPath, [options.script], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ServiceProcess(child);
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
          const res = await fetch(options.readyUrl, { signal: AbortSignal.timeout(1000) });
          if (res.status !== 200) throw new Error(`${options.readyUrl} answered ${res.status}`);
        },
        { timeoutMs: options.readyTimeoutMs ?? 20_000, intervalMs: 100 },
      );
    } catch (err) {
      await proc.kill('SIGKILL');
      throw new Error(
        `service did not become ready: ${(err as Error).message}\n${proc.output.join('')}`,
      );
    }
    return proc;
  }

  /** Sends a signal and waits for the process to exit; resolves with its exit code. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
