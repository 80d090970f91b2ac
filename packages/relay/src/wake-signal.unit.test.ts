import { WakeSignal } from './wake-signal';

describe('WakeSignal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  async function settled(p: Promise<void>): Promise<boolean> {
    let done = false;
    void p.then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    return done;
  }

  it('ends the wait when the time is up', async () => {
    const signal = new WakeSignal();
    const wait = signal.wait(1000);
    jest.advanceTimersByTime(999);
    expect(await settled(wait)).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await settled(wait)).toBe(true);
  });

  it('ends the wait early on wake()', async () => {
    const signal = new WakeSignal();
    const wait = signal.wait(60_000);
    signal.wake();
    expect(await settled(wait)).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not lose a wake() that comes before the wait, and uses it only once', async () => {
    const signal = new WakeSignal();
    signal.wake();
    signal.wake();
    expect(await settled(signal.wait(60_000))).toBe(true);
    const second = signal.wait(1000);
    expect(await settled(second)).toBe(false);
    jest.advanceTimersByTime(1000);
    expect(await settled(second)).toBe(true);
  });

  it('does not carry a wake() that ended one wait over to the next', async () => {
    const signal = new WakeSignal();
    const first = signal.wait(60_000);
    signal.wake();
    expect(await settled(first)).toBe(true);
    const next = signal.wait(500);
    expect(await settled(next)).toBe(false);
    jest.advanceTimersByTime(500);
    expect(await settled(next)).toBe(true);
  });
});
