import { retryDelayMs } from './retry-backoff';

describe('retryDelayMs', () => {
  const noJitter = () => 0.5;

  it('waits the base delay before the second try and doubles it for each later one', () => {
    expect([2, 3, 4, 5].map((a) => retryDelayMs(a, 100, 60_000, noJitter))).toEqual([
      100, 200, 400, 800,
    ]);
  });

  it('never waits longer than the maximum', () => {
    expect(retryDelayMs(30, 100, 5_000, noJitter)).toBe(5_000);
    expect(retryDelayMs(30, 100, 5_000, () => 1)).toBe(5_000);
  });

  it('spreads retries by at most 20 % either way', () => {
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(1600);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(2400);
  });
});
