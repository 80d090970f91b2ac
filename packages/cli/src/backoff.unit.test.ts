import { backoffDelayMs } from './backoff';

const options = { initialMs: 250, maxMs: 15_000 };

describe('backoffDelayMs', () => {
  it('doubles from the initial delay and never passes the maximum', () => {
    const top = (attempt: number) => backoffDelayMs(attempt, options, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000,
    ]);
    expect(top(10_000)).toBe(15_000);
  });

  it('jitters down to half of the delay, never below', () => {
    expect(backoffDelayMs(2, options, () => 0)).toBe(500);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(750);
  });
});
