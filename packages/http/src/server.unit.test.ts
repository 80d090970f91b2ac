import { listen } from './server';

describe('listen().close()', () => {
  it('lets an in-flight request finish, closes kept-alive connections at once, and does not wait for the deadline', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let slowStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const running = await listen(
      (req, res) => {
        if (req.url === '/slow') {
          slowStarted();
          void released.then(() => res.end('slow done'));
          return;
        }
        res.end('fast');
      },
      0,
      '127.0.0.1',
    );
    const base = `http://127.0.0.1:${running.port}`;
    // leaves a kept-alive idle connection in fetch's pool
    expect(await (await fetch(`${base}/fast`)).text()).toBe('fast');

    const slow = fetch(`${base}/slow`);
    await started;
    const begin = Date.now();
    const closed = running.close(30_000);
    release();
    const res = await slow;
    expect(await res.text()).toBe('slow done');
    expect(res.headers.get('connection')).toBe('close');
    await closed;
    expect(Date.now() - begin).toBeLessThan(5_000);
    await expect(fetch(`${base}/fast`)).rejects.toThrow();
  });
});
