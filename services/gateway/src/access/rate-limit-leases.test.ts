import { Redis } from 'ioredis';
import { TcpProxy, eventually, testServers, uniqueName } from '@reten/testing';
import { TokenLeases } from './rate-limit-leases';
import type { LeaseCharge, LeaseDecision } from './rate-limit-leases';

const clients: Redis[] = [];

async function client(url?: string): Promise<Redis> {
  const redis = new Redis(url ?? (await testServers()).redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 300,
    retryStrategy: () => 100,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  clients.push(redis);
  return redis;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

function charge(points: number, windowSeconds = 60, key = 'tenant-a'): LeaseCharge {
  return { bucket: 'ingest', key, points, windowSeconds };
}

/** `count` takes spread over `leases` (round robin), `concurrency` in flight at once. */
async function takeMany(
  leases: TokenLeases[],
  c: LeaseCharge,
  count: number,
  concurrency = 25,
): Promise<LeaseDecision[]> {
  const out: LeaseDecision[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next;
        next += 1;
        out.push(await leases[i % leases.length]!.take(c));
      }
    }),
  );
  return out;
}

describe('rate-limit token leases', () => {
  it('lets exactly the limit through in one process, with exact remaining counts', async () => {
    const leases = new TokenLeases(await client(), `${uniqueName('lease one')}:`, 10);
    const first = await leases.take(charge(100));
    expect(first).toMatchObject({ allowed: true, remaining: 99 });
    expect(first.msBeforeReset).toBeGreaterThan(59_000);
    const rest: LeaseDecision[] = [];
    for (let i = 0; i < 120; i += 1) rest.push(await leases.take(charge(100)));
    expect(rest.filter((d) => d.allowed)).toHaveLength(99);
    expect(rest.slice(0, 99).map((d) => d.remaining)).toEqual(
      Array.from({ length: 99 }, (_, i) => 98 - i),
    );
    expect(rest.slice(99).every((d) => !d.allowed && d.remaining === 0)).toBe(true);
  });

  it('holds the limit within 10 % across two processes sharing the counter, never above it', async () => {
    const prefix = `${uniqueName('lease two')}:`;
    // two clients and two lease tables: what two gateway processes hold
    const a = new TokenLeases(await client(), prefix, 40);
    const b = new TokenLeases(await client(), prefix, 40);
    const decisions = await takeMany([a, b], charge(1000), 3000);
    const allowed = decisions.filter((d) => d.allowed).length;
    expect(allowed).toBeLessThanOrEqual(1000);
    expect(allowed).toBeGreaterThanOrEqual(900);
    // the Redis counter is the one both processes charge, as before leases
    const redis = await client();
    expect(Number(await redis.get(`${prefix}ingest:tenant-a`))).toBeGreaterThanOrEqual(1000);
  });

  it('keeps tenants apart', async () => {
    const leases = new TokenLeases(await client(), `${uniqueName('lease tenants')}:`, 40);
    const a = await takeMany([leases], charge(5, 60, 'tenant-a'), 8, 1);
    const b = await takeMany([leases], charge(5, 60, 'tenant-b'), 3, 1);
    expect(a.filter((d) => d.allowed)).toHaveLength(5);
    expect(b.filter((d) => d.allowed)).toHaveLength(3);
  });

  it('starts a new window once the old one ended', async () => {
    const leases = new TokenLeases(await client(), `${uniqueName('lease window')}:`, 40);
    const first = await takeMany([leases], charge(3, 1), 5, 1);
    expect(first.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    const again = await eventually(
      async () => {
        const d = await leases.take(charge(3, 1));
        expect(d.allowed).toBe(true);
        return d;
      },
      { timeoutMs: 5_000, intervalMs: 100 },
    );
    expect(again.remaining).toBe(2);
  });

  it('applies a changed limit at once, counting only the tokens used under the old one', async () => {
    const leases = new TokenLeases(await client(), `${uniqueName('lease change')}:`, 4);
    // a block of 100 leased, 1 used
    expect(await leases.take(charge(400))).toMatchObject({ allowed: true, remaining: 399 });
    // the 99 unused go back: under a limit of 50 this is the 2nd request of the window
    expect(await leases.take(charge(50))).toMatchObject({ allowed: true, remaining: 48 });
    // and a limit of 2 is used up by those two
    expect(await leases.take(charge(2))).toMatchObject({ allowed: false, remaining: 0 });
    const redis = await client();
    expect(Number(await redis.get(`${leases.redisKey(charge(2))}`))).toBeGreaterThanOrEqual(2);
  });

  it('fails (for the caller to fail open) when Redis stops answering, and serves again after', async () => {
    const { redisUrl } = await testServers();
    const target = new URL(redisUrl);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    try {
      const leases = new TokenLeases(
        await client(proxy.proxiedUrl(redisUrl)),
        `${uniqueName('lease cut')}:`,
        4,
      );
      // a block of 10: the first take leases it, 9 more are decided in memory
      expect((await leases.take(charge(40))).allowed).toBe(true);
      proxy.cut();
      const held = await takeMany([leases], charge(40), 9, 1);
      expect(held.every((d) => d.allowed)).toBe(true);
      expect(held.at(-1)!.remaining).toBe(30);
      // the next needs Redis: bounded by the command timeout, then the caller fails open
      const started = Date.now();
      await expect(Promise.resolve(leases.take(charge(40)))).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(2_000);
      proxy.restore();
      const after = await eventually(
        async () => {
          const d = await leases.take(charge(40));
          expect(d.allowed).toBe(true);
          return d;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      // the counter survived the outage: the window's first 10 are still counted
      expect(after.remaining).toBeLessThanOrEqual(29);
    } finally {
      await proxy.close();
    }
  });
});
