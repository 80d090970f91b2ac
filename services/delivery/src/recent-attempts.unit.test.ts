import { RECENT_WINDOW_MS, RecentAttempts } from './recent-attempts';

/** A RecentAttempts on a clock the test moves. */
function atClock(start = 1_000_000) {
  const clock = { now: start };
  const recent = new RecentAttempts(() => clock.now);
  /** One attempt of `id` that ends now (its promise settles in a microtask). */
  const end = async (id: string) => {
    recent.start(id, Promise.resolve());
    await recent.settled(id);
    await Promise.resolve(); // the end is recorded in the promise's reaction
  };
  return { clock, recent, end };
}

describe('RecentAttempts', () => {
  it('sees a row read before the attempt ended as stale, and one read after as current', async () => {
    const { clock, recent, end } = atClock();
    const readBefore = clock.now;
    clock.now += 5;
    await end('dlv_a');
    expect(recent.mayBeStale('dlv_a', readBefore)).toBe(true);
    expect(recent.mayBeStale('dlv_a', clock.now + 1)).toBe(false);
    expect(recent.mayBeStale('dlv_other', readBefore)).toBe(false);
    expect(recent.endedLately('dlv_a')).toBe(true);
    expect(recent.endedLately('dlv_other')).toBe(false);
  });

  it('tracks an attempt as running until its promise settles', async () => {
    const { recent } = atClock();
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    recent.start('dlv_a', done);
    expect(recent.isRunning('dlv_a')).toBe(true);
    const settled = recent.settled('dlv_a');
    finish();
    await settled;
    expect(recent.isRunning('dlv_a')).toBe(false);
  });

  it('remembers an end for the whole window, at any phase of its generations, then forgets it', async () => {
    // each offset puts the end at another point of the generation it falls in
    for (const offset of [0, 1, RECENT_WINDOW_MS / 4, RECENT_WINDOW_MS / 2 - 1]) {
      const { clock, recent, end } = atClock();
      clock.now += offset;
      const readAt = clock.now - 1;
      await end('dlv_a');
      const endedAt = clock.now;
      // other deliveries end every second meanwhile (what moves the generations on)
      for (let t = 1; t <= RECENT_WINDOW_MS / 1000; t++) {
        clock.now = endedAt + t * 1000 - 1;
        await end(`dlv_${t}`);
        expect(recent.endedLately('dlv_a')).toBe(true);
        expect(recent.mayBeStale('dlv_a', readAt)).toBe(true);
      }
      // past the window: a read that old is stale anyway, and the end itself is forgotten
      clock.now = endedAt + RECENT_WINDOW_MS + 1;
      expect(recent.endedLately('dlv_a')).toBe(false);
      expect(recent.mayBeStale('dlv_a', readAt)).toBe(true); // older than the window
      expect(recent.mayBeStale('dlv_a', clock.now - 10)).toBe(false);
    }
  });

  it('takes the latest end of a delivery that ended again', async () => {
    const { clock, recent, end } = atClock();
    await end('dlv_a');
    // the second end falls in a later generation than the first
    clock.now += RECENT_WINDOW_MS / 2;
    const readBetween = clock.now - 1;
    await end('dlv_a');
    expect(recent.mayBeStale('dlv_a', readBetween)).toBe(true);
    // 55 s on, the first end is older than the window, the second is not
    clock.now += RECENT_WINDOW_MS - 5_000;
    await end('dlv_b');
    expect(recent.endedLately('dlv_a')).toBe(true);
  });

  it('keeps at most a window and a half of ends at a steady rate', async () => {
    const { clock, recent, end } = atClock();
    const perSecond = 50;
    let most = 0;
    for (let i = 0; i < perSecond * (RECENT_WINDOW_MS / 1000) * 4; i++) {
      clock.now += 1000 / perSecond;
      await end(`dlv_${i}`);
      most = Math.max(most, recent.remembered);
    }
    const window = perSecond * (RECENT_WINDOW_MS / 1000);
    expect(most).toBeGreaterThanOrEqual(window);
    expect(most).toBeLessThanOrEqual(window * 1.5 + perSecond);
  });
});
