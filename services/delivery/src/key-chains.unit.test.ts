import { KeyChains } from './key-chains';

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyChains', () => {
  it('lets the first delivery of a key start at once and the next wait for the one before', async () => {
    const chains = new KeyChains(8);
    expect(chains.waitFor('k')).toBeUndefined();
    const first = deferred();
    chains.track('k', first.promise);
    const before = chains.waitFor('k');
    expect(before).toBeDefined();
    let started = false;
    void before?.then(() => (started = true));
    await tick();
    expect(started).toBe(false);
    first.resolve();
    await tick();
    expect(started).toBe(true);
  });

  it('goes on after a failed delivery, keeps keys apart, and forgets a key once its chain is done', async () => {
    const chains = new KeyChains(8);
    const a = deferred();
    chains.track('a', a.promise);
    expect(chains.waitFor('b')).toBeUndefined();
    a.reject(new Error('attempt failed'));
    await expect(chains.waitFor('a')).resolves.toBeUndefined();
    await tick();
    expect(chains.size).toBe(0);
  });

  it('stops chaining past maxWaiting deliveries of one key: the next ones start at once', () => {
    const chains = new KeyChains(2);
    for (let i = 0; i < 3; i++) {
      expect(chains.waitFor('k') !== undefined).toBe(i > 0);
      chains.track('k', deferred().promise);
    }
    expect(chains.waitFor('k')).toBeUndefined();
  });
});
