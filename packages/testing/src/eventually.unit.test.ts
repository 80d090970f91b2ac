import { eventually } from './eventually';
import { uniqueName } from './names';

describe('eventually', () => {
  it('returns the value once the assertion stops throwing', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls += 1;
        if (calls < 3) throw new Error(`not yet ${calls}`);
        return 'done';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('rethrows the last failure at the deadline', async () => {
    let calls = 0;
    const error = await eventually(
      () => {
        calls += 1;
        throw new Error(`failure ${calls}`);
      },
      { timeoutMs: 50, intervalMs: 5 },
    ).catch((err: unknown) => err);
    expect(calls).toBeGreaterThan(1);
    expect((error as Error).message).toBe(`failure ${calls}`);
  });
});

describe('uniqueName', () => {
  it('is a lower-case SQL identifier built from the title, different each time', () => {
    const a = uniqueName('Relay leadership: A/B');
    const b = uniqueName('Relay leadership: A/B');
    expect(a).toMatch(/^t_relay_leadership_a_b_[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
    expect(uniqueName('x'.repeat(100)).length).toBeLessThanOrEqual(40);
  });
});
