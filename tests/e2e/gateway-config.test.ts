import { spawn } from 'node:child_process';
import { GATEWAY_MAIN } from './gateway-process';

/** Runs the gateway with `env` added to the environment; resolves with its exit code and stderr. */
function runGateway(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GATEWAY_MAIN], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not exit on bad config:\n${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('gateway process configuration', () => {
  it('exits 2 naming the variable and the value when a value is invalid', async () => {
    const { code, stderr } = await runGateway({ BODY_LIMIT_BYTES: 'lots' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/BODY_LIMIT_BYTES: .*"lots"/);
  });

  it('exits 2 on an unknown RETEN_* variable (a typo or a renamed key)', async () => {
    const { code, stderr } = await runGateway({ RETEN_RELAY_BATCH: '10' });
    expect(code).toBe(2);
    expect(stderr).toContain('RETEN_RELAY_BATCH: unknown variable');
  });
});
