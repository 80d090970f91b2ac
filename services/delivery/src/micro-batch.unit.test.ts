import { MicroBatch } from './micro-batch';

describe('MicroBatch', () => {
  it('runs the calls of one event-loop turn as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const batch = new MicroBatch<number, number>((items) => {
      batches.push(items);
      return Promise.resolve(items.map((i) => i * 10));
    }, 100);
    const answers = await Promise.all([1, 2, 3].map((i) => batch.call(i)));
    expect(answers).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('starts a new batch at the size limit', async () => {
    const batches: number[][] = [];
    const batch = new MicroBatch<number, number>((items) => {
      batches.push(items);
      return Promise.resolve(items);
    }, 2);
    await Promise.all([1, 2, 3].map((i) => batch.call(i)));
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('fails every caller of a failed batch', async () => {
    const batch = new MicroBatch<number, number>(() => Promise.reject(new Error('db down')), 10);
    const results = await Promise.allSettled([batch.call(1), batch.call(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('with maxInFlight, gathers the calls made while batches run into the next one', async () => {
    const batches: number[][] = [];
    const ends: Array<() => void> = [];
    const batch = new MicroBatch<number, number>(
      (items) => {
        batches.push(items);
        return new Promise((resolve) => ends.push(() => resolve(items)));
      },
      100,
      1,
    );
    const first = batch.call(1);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    // the first batch is still running: these wait, across turns, and go together
    const rest = [batch.call(2), batch.call(3)];
    await new Promise((r) => setImmediate(r));
    rest.push(batch.call(4));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    expect(batch.inFlight).toBe(1);
    ends.shift()!();
    expect(await first).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3, 4]]);
    ends.shift()!();
    expect(await Promise.all(rest)).toEqual([2, 3, 4]);
    expect(batch.inFlight).toBe(0);
  });

  it('with maxInFlight, a failed batch frees its slot for the next one', async () => {
    let n = 0;
    const batch = new MicroBatch<number, number>(
      (items) => (n++ === 0 ? Promise.reject(new Error('db down')) : Promise.resolve(items)),
      100,
      1,
    );
    const failed = batch.call(1);
    await new Promise((r) => setImmediate(r));
    const next = batch.call(2);
    await expect(failed).rejects.toThrow('db down');
    expect(await next).toBe(2);
  });

  it('with maxInFlight, splits a backlog larger than maxSize into full batches', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batch = new MicroBatch<number, number>(
      async (items) => {
        batches.push(items);
        await gate;
        return items;
      },
      2,
      2,
    );
    const all = [1, 2, 3, 4, 5, 6, 7].map((i) => batch.call(i));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    release();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(batches.slice(2)).toEqual([[5, 6], [7]]);
  });

  describe('with lingerMs', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('holds a batch until its oldest call has waited lingerMs, gathering the later calls', async () => {
      const batches: number[][] = [];
      const batch = new MicroBatch<number, number>(
        (items) => {
          batches.push(items);
          return Promise.resolve(items);
        },
        100,
        1,
        10,
      );
      const first = batch.call(1);
      await jest.advanceTimersByTimeAsync(4);
      const second = batch.call(2);
      await jest.advanceTimersByTimeAsync(5);
      expect(batches).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(batches).toEqual([[1, 2]]);
      expect(await Promise.all([first, second])).toEqual([1, 2]);
    });

    it('sends a full batch at once, and what waited during a running batch when it ends', async () => {
      const batches: number[][] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const batch = new MicroBatch<number, number>(
        async (items) => {
          batches.push(items);
          await gate;
          return items;
        },
        2,
        1,
        10,
      );
      const all = [batch.call(1), batch.call(2)];
      await jest.advanceTimersByTimeAsync(0);
      expect(batches).toEqual([[1, 2]]);
      all.push(batch.call(3));
      // the running batch holds the next one past the linger; it goes as soon as the first ends
      await jest.advanceTimersByTimeAsync(30);
      expect(batches).toEqual([[1, 2]]);
      release();
      await jest.advanceTimersByTimeAsync(0);
      expect(batches).toEqual([[1, 2], [3]]);
      expect(await Promise.all(all)).toEqual([1, 2, 3]);
    });
  });
});
