import { checkReadiness, stateCheck } from './health';
import { Lifecycle } from './lifecycle';

function running(): Lifecycle {
  const lifecycle = new Lifecycle();
  lifecycle.transition('running');
  return lifecycle;
}

describe('checkReadiness', () => {
  it('is ready when running and every required check passes; reports each check', async () => {
    const report = await checkReadiness(running(), [
      { name: 'postgres', check: () => Promise.resolve() },
      {
        name: 'rabbitmq',
        check: () => Promise.reject(new Error('not connected')),
        required: false,
      },
    ]);
    expect(report).toEqual({
      ready: true,
      state: 'running',
      checks: { postgres: { ok: true }, rabbitmq: { ok: false, error: 'not connected' } },
    });
  });

  it('is unready when a required check fails or does not answer in time', async () => {
    const failing = await checkReadiness(running(), [
      { name: 'rabbitmq', check: () => Promise.reject(new Error('not connected')) },
    ]);
    expect(failing.ready).toBe(false);
    const hanging = await checkReadiness(
      running(),
      [{ name: 'postgres', check: () => new Promise<void>(() => undefined) }],
      20,
    );
    expect(hanging).toMatchObject({
      ready: false,
      checks: { postgres: { ok: false, error: 'timed out after 20 ms' } },
    });
  });

  it.each(['starting', 'draining', 'stopped'] as const)('is unready while %s', async (state) => {
    const lifecycle = new Lifecycle();
    if (state !== 'starting') lifecycle.transition(state);
    const report = await checkReadiness(lifecycle, []);
    expect(report).toMatchObject({ ready: false, state });
  });
});

describe('Lifecycle', () => {
  it('moves starting → running → draining → stopped and refuses going back', () => {
    const lifecycle = new Lifecycle();
    const seen: string[] = [];
    lifecycle.on('state', (s: string) => seen.push(s));
    expect(lifecycle.transition('running')).toBe(true);
    expect(lifecycle.transition('draining')).toBe(true);
    expect(lifecycle.transition('running')).toBe(false);
    expect(lifecycle.transition('stopped')).toBe(true);
    expect(lifecycle.transition('failed')).toBe(false);
    expect(seen).toEqual(['running', 'draining', 'stopped']);
  });
});

describe('stateCheck', () => {
  it('passes while the state has no problem, fails with its text, and gates only when required', async () => {
    const state: { problem?: string } = {};
    const broker = stateCheck('rabbitmq', () => state.problem);
    const redis = stateCheck('redis', () => 'redis connecting', false);
    expect(await checkReadiness(running(), [broker, redis])).toMatchObject({
      ready: true,
      checks: { rabbitmq: { ok: true }, redis: { ok: false, error: 'redis connecting' } },
    });
    state.problem = 'not connected';
    expect(await checkReadiness(running(), [broker, redis])).toMatchObject({
      ready: false,
      checks: { rabbitmq: { ok: false, error: 'not connected' } },
    });
  });
});
