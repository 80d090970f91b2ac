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
});
