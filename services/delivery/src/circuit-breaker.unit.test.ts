import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const breaker = () => new CircuitBreaker(3, 1000, () => now);

  beforeEach(() => {
    now = 10_000;
  });

  it('stays closed below the threshold and after a success', () => {
    const b = breaker();
    b.record('e', false);
    b.record('e', false);
    expect(b.blockedForMs('e')).toBe(0);
    b.record('e', true);
    b.record('e', false);
    b.record('e', false);
    expect(b.blockedForMs('e')).toBe(0);
  });

  it('says an endpoint is failing from its first failed attempt until a success', () => {
    const b = breaker();
    expect(b.failing('e')).toBe(false);
    b.record('e', true);
    expect(b.failing('e')).toBe(false);
    b.record('e', false);
    expect(b.failing('e')).toBe(true);
    expect(b.failing('other')).toBe(false);
    b.record('e', true);
    expect(b.failing('e')).toBe(false);
  });

  it('opens after the threshold for the cooldown, then lets one trial through', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.record('e', false);
    expect(b.blockedForMs('e')).toBe(1000);
    expect(b.blockedForMs('other')).toBe(0);
    now += 600;
    expect(b.blockedForMs('e')).toBe(400);
    now += 400;
    expect(b.blockedForMs('e')).toBe(0); // the trial
    expect(b.blockedForMs('e')).toBe(1000); // the others wait for it
  });

  it('closes when the trial succeeds and reopens when it fails', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.record('e', false);
    now += 1000;
    expect(b.blockedForMs('e')).toBe(0);
    b.record('e', false);
    expect(b.blockedForMs('e')).toBe(1000);
    now += 1000;
    expect(b.blockedForMs('e')).toBe(0);
    b.record('e', true);
    expect(b.blockedForMs('e')).toBe(0);
  });
});
