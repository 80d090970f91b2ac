import { Redis } from 'ioredis';
import { TcpProxy, silentLogger, testServers, uniqueName } from '@reten/testing';
import { OutageLog } from './outage-log';
import { EndpointRateLimiter } from './rate-limiter';

function outageLog() {
  let failures = 0;
  const log = new OutageLog({
    log: silentLogger(),
    downMessage: 'down',
    upMessage: 'up',
    onFailure: () => (failures += 1),
  });
  return { log, failures: () => failures };
}

function client(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    // disconnect() waits this long for a socket's close: the cut one never closes, and its
    // timer (2 s by default) kept jest from exiting after the last test
    disconnectTimeout: 100,
  });
  redis.on('error', () => undefined); // a cut connection, on purpose
  return redis;
}

describe('EndpointRateLimiter (batched reservations in Redis)', () => {
  const clients: Redis[] = [];
  let url: string;

  beforeAll(async () => {
    url = (await testServers()).redisUrl;
  });

  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  async function connected(redisUrl = url): Promise<Redis> {
    const c = client(redisUrl);
    clients.push(c);
    await c.connect();
    return c;
  }

  it('gives concurrent callers consecutive slots, in the order they asked, in one round trip', async () => {
    const redis = await connected();
    const calls: string[] = [];
    const prefix = `${uniqueName('rl')}:`;
    const limiter = new EndpointRateLimiter(redis, prefix, 2_000, outageLog().log);
    const sendCommand = redis.sendCommand.bind(redis);
    redis.sendCommand = (cmd: { name: string }) => {
      calls.push(cmd.name);
      return sendCommand(cmd as never);
    };
    // 100/s: one slot every 10 ms
    const slots = await Promise.all(Array.from({ length: 20 }, () => limiter.reserve('wh_a', 100)));
    expect(slots.every((s) => s.granted)).toBe(true);
    const waits = slots.map((s) => s.waitMs);
    expect(waits[0]).toBeLessThan(5);
    for (let i = 1; i < waits.length; i++) {
      expect(waits[i]! - waits[i - 1]!).toBeCloseTo(10, 5);
    }
    // EVALSHA (and an EVAL the first time the script is not cached): not one call per caller
    expect(calls.length).toBeLessThanOrEqual(2);
  });

  it('grants only the slots within the longest wait; the rest reserve nothing', async () => {
    const redis = await connected();
    const prefix = `${uniqueName('rl')}:`;
    // 10/s with a longest wait of 250 ms: slots at 0, 100, 200 ms fit, the others do not
    const limiter = new EndpointRateLimiter(redis, prefix, 250, outageLog().log);
    const slots = await Promise.all(Array.from({ length: 6 }, () => limiter.reserve('wh_b', 10)));
    expect(slots.map((s) => s.granted)).toEqual([true, true, true, false, false, false]);
    expect(slots[3]!.waitMs).toBeGreaterThan(250);
    // the refused ones reserved nothing: the next caller gets the fourth slot (≈ 300 ms away)
    const next = await limiter.reserve('wh_b', 10);
    expect(next.granted).toBe(false);
    expect(next.waitMs).toBeGreaterThan(250);
    expect(next.waitMs).toBeLessThanOrEqual(300);
  });

  it('shares the schedule between replicas: no slot is given twice', async () => {
    const prefix = `${uniqueName('rl')}:`;
    const a = new EndpointRateLimiter(await connected(), prefix, 10_000, outageLog().log);
    const b = new EndpointRateLimiter(await connected(), prefix, 10_000, outageLog().log);
    const t0 = Date.now();
    const slots = (
      await Promise.all([
        Promise.all(Array.from({ length: 30 }, () => a.reserve('wh_c', 100))),
        Promise.all(Array.from({ length: 30 }, () => b.reserve('wh_c', 100))),
      ])
    ).flat();
    expect(slots.every((s) => s.granted)).toBe(true);
    // 60 slots at 100/s were taken: the next one is ≈ 600 ms after the first
    const next = await b.reserve('wh_c', 100);
    const nextAt = Date.now() - t0 + next.waitMs;
    expect(nextAt).toBeGreaterThanOrEqual(595);
    expect(nextAt).toBeLessThan(700);
    // different endpoints do not share a schedule
    expect((await a.reserve('wh_d', 100)).waitMs).toBeLessThan(5);
  });

  it('leases a window at a high limit: later callers take its slots without a round trip', async () => {
    const redis = await connected();
    let calls = 0;
    const sendCommand = redis.sendCommand.bind(redis);
    redis.sendCommand = (cmd: { name: string }) => {
      calls += 1;
      return sendCommand(cmd as never);
    };
    const prefix = `${uniqueName('rl')}:`;
    // 1,000/s (one slot a millisecond) with a window of 200 ms
    const limiter = new EndpointRateLimiter(redis, prefix, 2_000, outageLog().log, 200);
    const t0 = performance.now();
    const first = await limiter.reserve('wh_l', 1_000);
    expect(first.granted).toBe(true);
    const afterFirst = calls;
    // one caller at a time: each takes the window's next slot, one interval after the last.
    // The limiter reads the clock between the ask and the answer, so a slot's time lies in
    // [ask + wait, answer + wait]: the latest a slot can be, minus the earliest the one before
    // it can be, is at least the interval whenever the schedule holds (a pause of the event
    // loop between the ask and the limiter's reading moves only this test's view of it).
    const slots: { earliest: number; latest: number }[] = [
      { earliest: t0 + first.waitMs, latest: performance.now() + first.waitMs },
    ];
    for (let i = 0; i < 50; i++) {
      const asked = performance.now();
      const slot = await limiter.reserve('wh_l', 1_000);
      const answered = performance.now();
      expect(slot.granted).toBe(true);
      slots.push({ earliest: asked + slot.waitMs, latest: answered + slot.waitMs });
    }
    expect(calls).toBe(afterFirst);
    for (let i = 1; i < slots.length; i++)
      expect(slots[i]!.latest - slots[i - 1]!.earliest).toBeGreaterThanOrEqual(1);
    // no other replica gets a slot inside the window: its first slot is at the window's end,
    // 200 ms after the window's first slot. As above, the latest its slot can be, minus the
    // earliest the window's first slot can be, is at least that (reading from the ask alone
    // made the round trip of the other replica's call part of the figure: 193.9 ms once in CI)
    const other = new EndpointRateLimiter(await connected(), prefix, 2_000, outageLog().log, 200);
    const asked = performance.now();
    const theirs = await other.reserve('wh_l', 1_000);
    const answered = performance.now();
    expect(answered + theirs.waitMs - slots[0]!.earliest).toBeGreaterThanOrEqual(199);
    expect(asked + theirs.waitMs - t0).toBeLessThan(260);
  });

  it('spaces its calls by the call interval: the callers that ask meanwhile share the next call', async () => {
    const redis = await connected();
    const starts: number[] = [];
    const sendCommand = redis.sendCommand.bind(redis);
    redis.sendCommand = (cmd: { name: string }) => {
      if (cmd.name === 'evalsha') starts.push(performance.now());
      return sendCommand(cmd as never);
    };
    const prefix = `${uniqueName('rl')}:`;
    const limiter = new EndpointRateLimiter(redis, prefix, 2_000, outageLog().log, 0, 300);
    // idle: the first call goes at once
    const asked = performance.now();
    expect((await limiter.reserve('wh_i', 1_000)).granted).toBe(true);
    expect(starts).toHaveLength(1);
    expect(starts[0]! - asked).toBeLessThan(50);
    // ten callers to ten endpoints, each in a later turn of the event loop: one call for all
    // of them, once the interval since the first call has passed
    const pending: Promise<{ granted: boolean; waitMs: number }>[] = [];
    for (let i = 0; i < 10; i++) {
      pending.push(limiter.reserve(`wh_i${i}`, 1_000));
      await new Promise((r) => setImmediate(r));
    }
    const slots = await Promise.all(pending);
    expect(slots.every((s) => s.granted && s.waitMs < 5)).toBe(true);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(295);
    // the next caller of a busy endpoint still gets the slot after the last one given
    const next = await limiter.reserve('wh_i9', 10);
    expect(next.granted).toBe(true);
    expect(starts).toHaveLength(3);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(295);
  });

  it('keeps the limit across replicas that lease windows, and reserves only its callers at 100/s', async () => {
    const prefix = `${uniqueName('rl')}:`;
    const perSecond = 500;
    // one replica calls Redis as soon as it can, the other at most every 5 ms (the default)
    const replicas = await Promise.all(
      [0, 5].map(
        async (callIntervalMs) =>
          new EndpointRateLimiter(
            await connected(),
            prefix,
            2_000,
            outageLog().log,
            20,
            callIntervalMs,
          ),
      ),
    );
    // each replica runs 4 callers that send at their slot and ask again, for 1.2 s: twice the
    // demand the limit allows
    const sent: number[] = [];
    const until = performance.now() + 1_200;
    const caller = async (limiter: EndpointRateLimiter) => {
      while (performance.now() < until) {
        const slot = await limiter.reserve('wh_m', perSecond);
        if (!slot.granted) continue;
        // as the attempt runner does: it waits `waitMs` from the answer, then sends
        const at = performance.now() + slot.waitMs;
        sent.push(at);
        await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
      }
    };
    await Promise.all(replicas.flatMap((r) => [caller(r), caller(r), caller(r), caller(r)]));
    sent.sort((a, b) => a - b);
    // in any half second, at most 250 slots (one per 2 ms), within 10 %: a replica reads the
    // slots of a window from when it handles Redis's answer, as it reads single slots, so a busy
    // event loop shifts a window late and over a few milliseconds two replicas' windows can
    // touch; the schedule in Redis never gives a slot twice
    let most = 0;
    for (let i = 0, j = 0; i < sent.length; i++) {
      while (sent[i]! - sent[j]! >= 500) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(275);
    // and the replicas did not starve each other: most of the allowed slots were used
    const span = sent[sent.length - 1]! - sent[0]!;
    expect(sent.length).toBeGreaterThan((span / 2) * 0.7);

    // at 100/s a window of 10 ms holds one slot: a lone caller reserves its own only
    const lone = new EndpointRateLimiter(await connected(), prefix, 2_000, outageLog().log, 10);
    const a = await lone.reserve('wh_n', 100);
    const b = await lone.reserve('wh_n', 100);
    expect(a.waitMs).toBeLessThan(5);
    expect(b.waitMs).toBeGreaterThan(5);
  });

  it('fails open per caller while Redis is cut, counting each; between probes nothing waits for Redis', async () => {
    const target = new URL(url);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    try {
      const redis = await connected(proxy.proxiedUrl(url));
      const state = outageLog();
      const limiter = new EndpointRateLimiter(redis, `${uniqueName('rl')}:`, 2_000, state.log);
      expect((await limiter.reserve('wh_e', 1)).granted).toBe(true);
      proxy.cut();
      const slots = await Promise.all(Array.from({ length: 10 }, () => limiter.reserve('wh_e', 1)));
      // a working limit of 1/s would make them wait up to 10 s
      expect(slots.every((s) => s.granted && s.waitMs === 0)).toBe(true);
      expect(state.failures()).toBe(10);
      expect(state.log.isDown).toBe(true);
      // within the probe interval nothing waits for Redis
      const t0 = Date.now();
      await limiter.reserve('wh_e', 1);
      expect(Date.now() - t0).toBeLessThan(50);
      expect(state.failures()).toBe(11);
    } finally {
      clients.pop()?.disconnect();
      await proxy.close();
    }
  });
});
