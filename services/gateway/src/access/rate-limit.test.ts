import {
  TEST_JWT_SECRET,
  TcpProxy,
  eventually,
  freePort,
  logSink,
  testServers,
  uniqueName,
} from '@reten/testing';
import { loadGatewayConfig } from '../config';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';
import type { ApiResponse } from '../test-api';

const REST_PATH = '/api/v1/tenant/limits';

function limitHeaders(res: ApiResponse) {
  return {
    limit: res.headers.get('x-ratelimit-limit'),
    remaining: res.headers.get('x-ratelimit-remaining'),
    reset: res.headers.get('x-ratelimit-reset'),
  };
}

/** `count` GETs with `concurrency` in flight; returns the answers in completion order. */
async function burst(
  gw: TestGateway,
  count: number,
  auth?: string,
  concurrency = 20,
): Promise<ApiResponse[]> {
  const out: ApiResponse[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        out.push(await api(gw, 'GET', REST_PATH, undefined, auth ? { auth } : {}));
      }
    }),
  );
  return out;
}

function expectExactly429(res: ApiResponse): void {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    error: { code: 'rate_limit_exceeded', message: expect.any(String), status: 429 },
  });
  expect(Object.keys((res.body as { error: object }).error)).toEqual(['code', 'message', 'status']);
}

describe('REST and ingest rate limits', () => {
  it('answers the 1,001st REST request of a minute with 429, the exact body and Retry-After', async () => {
    // the deployment default, spelled out (the test fixture raises it for every other test)
    const defaults = loadGatewayConfig({ JWT_SECRET: TEST_JWT_SECRET });
    expect(defaults.RATE_LIMIT_REST_REQUESTS).toBe(1000);
    expect(defaults.RATE_LIMIT_REST_WINDOW_SECONDS).toBe(60);
    const gw = await startTestGateway('rate limit 1001', {
      env: { RATE_LIMIT_REST_REQUESTS: '1000' },
    });
    try {
      const first = await api(gw, 'GET', REST_PATH);
      expect(first.status).toBe(200);
      expect(limitHeaders(first)).toEqual({
        limit: '1000',
        remaining: '999',
        reset: expect.any(String),
      });
      const reset = Number(limitHeaders(first).reset);
      expect(reset).toBeGreaterThanOrEqual(59);
      expect(reset).toBeLessThanOrEqual(60);

      const rest = await burst(gw, 999);
      expect(rest.map((r) => r.status)).toEqual(Array(999).fill(200));
      expect(
        rest.map((r) => Number(r.headers.get('x-ratelimit-remaining'))).sort((a, b) => a - b)[0],
      ).toBe(0);

      const over = await api(gw, 'GET', REST_PATH);
      expectExactly429(over);
      expect(limitHeaders(over)).toMatchObject({ limit: '1000', remaining: '0' });
      const retryAfter = Number(over.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);

      // per key: another key of the same tenant has its own count; ingest has its own bucket
      const other = await gw.createKey(gw.tenantId, ['admin'], 'second key');
      expect((await api(gw, 'GET', REST_PATH, undefined, { auth: other })).status).toBe(200);
      const ingest = await api(gw, 'POST', '/v1.0/event/rate.ingest', { n: 1 });
      expect(ingest.status).toBe(202);
      expect(limitHeaders(ingest)).toMatchObject({ limit: '50000', remaining: '49999' });
    } finally {
      await gw.close();
    }
  });

  it('lets requests through again once the window has passed', async () => {
    const gw = await startTestGateway('rate limit window', {
      // a window long enough that 4 requests surely fall in it, even on a loaded machine
      env: { RATE_LIMIT_REST_REQUESTS: '3', RATE_LIMIT_REST_WINDOW_SECONDS: '4' },
    });
    try {
      expect((await burst(gw, 3, undefined, 1)).map((r) => r.status)).toEqual([200, 200, 200]);
      expectExactly429(await api(gw, 'GET', REST_PATH));
      const again = await eventually(
        async () => {
          const res = await api(gw, 'GET', REST_PATH);
          expect(res.status).toBe(200);
          return res;
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(limitHeaders(again)).toMatchObject({ limit: '3', remaining: '2' });
    } finally {
      await gw.close();
    }
  });

  it('shares one limit between two gateway instances', async () => {
    const env = {
      RATE_LIMIT_REST_REQUESTS: '10',
      RATE_LIMIT_INGEST_REQUESTS: '4',
      REDIS_KEY_PREFIX: `${uniqueName('shared limit')}:`,
    };
    const a = await startTestGateway('shared limit', { env });
    const b = await startTestGateway('shared limit', { env, schema: a.schema, vhost: a.vhost });
    const bAsA = { url: b.url, apiKey: a.apiKey };
    try {
      const fromA = await burst(a, 5, a.apiKey, 1);
      const fromB = await Promise.all(Array.from({ length: 5 }, () => api(bAsA, 'GET', REST_PATH)));
      expect([...fromA, ...fromB].map((r) => r.status)).toEqual(Array(10).fill(200));
      expectExactly429(await api(bAsA, 'GET', REST_PATH));
      expectExactly429(await api(a, 'GET', REST_PATH));

      // ingest counts per tenant, across keys and instances
      const otherKey = await a.createKey(a.tenantId, ['events:write'], 'ingest 2');
      const sent = [
        await api(a, 'POST', '/v1.0/event/rate.shared', {}),
        await api(b, 'POST', '/v1.0/event/rate.shared', {}, { auth: otherKey }),
        await api(a, 'POST', '/api/v1/events', { event_type: 'rate.shared', data: {} }),
        await api(b, 'POST', '/v1.0/event/rate.shared', {}),
      ];
      expect(sent.map((r) => r.status)).toEqual([202, 202, 202, 202]);
      expectExactly429(await api(b, 'POST', '/v1.0/event/rate.shared', {}, { auth: otherKey }));
      const stranger = await a.createKey('another-tenant', ['events:write'], 'stranger');
      expect((await api(b, 'POST', '/v1.0/event/rate.shared', {}, { auth: stranger })).status).toBe(
        202,
      );
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('holds an ingest limit within 10 % across two gateways leasing tokens in blocks', async () => {
    const env = {
      // a block is 400 / 40 = 10 tokens: most requests are decided without Redis
      RATE_LIMIT_INGEST_REQUESTS: '400',
      RATE_LIMIT_INGEST_WINDOW_SECONDS: '60',
      REDIS_KEY_PREFIX: `${uniqueName('leased limit')}:`,
    };
    const a = await startTestGateway('leased limit', { env });
    const b = await startTestGateway('leased limit', { env, schema: a.schema, vhost: a.vhost });
    try {
      const out: ApiResponse[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < 600) {
            const gw = next % 2 === 0 ? a : { url: b.url, apiKey: a.apiKey };
            next += 1;
            out.push(await api(gw, 'POST', '/v1.0/event/rate.leased', { n: next }));
          }
        }),
      );
      const accepted = out.filter((r) => r.status === 202);
      expect(accepted.length).toBeLessThanOrEqual(400);
      expect(accepted.length).toBeGreaterThanOrEqual(360);
      const refused = out.filter((r) => r.status !== 202);
      for (const r of refused) expectExactly429(r);
      expect(refused.every((r) => r.headers.get('retry-after') !== null)).toBe(true);
      expect(accepted.every((r) => r.headers.get('x-ratelimit-limit') === '400')).toBe(true);
      const stored = await a.schema.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE event_type = 'rate.leased'`,
      );
      expect(stored.rows[0]!.n).toBe(accepted.length);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('applies a tenant’s own limits set through PATCH /api/v1/tenant/limits', async () => {
    const gw = await startTestGateway('rate limit tenant');
    try {
      const set = await api(gw, 'PATCH', REST_PATH, { rest_requests_per_minute: 4 });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({
        rest_requests_per_minute: 4,
        ingest_events_per_second: null,
        events_retention_seconds: null,
      });
      // the PATCH itself was the 1st request of this key's window
      const next = await burst(gw, 3, undefined, 1);
      expect(next.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(limitHeaders(next[2]!)).toMatchObject({ limit: '4', remaining: '0' });
      expectExactly429(await api(gw, 'GET', REST_PATH));
      const bad = await api(
        gw,
        'PATCH',
        REST_PATH,
        { rest_requests_per_minute: 0 },
        {
          auth: await gw.createKey(gw.tenantId, ['admin'], 'fresh'),
        },
      );
      expect(bad.status).toBe(422);
    } finally {
      await gw.close();
    }
  });

  it('lets every request through while Redis is unreachable, logs it once, raises a metric', async () => {
    const { redisUrl } = await testServers();
    const target = new URL(redisUrl);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    const sink = logSink('info');
    const gw = await startTestGateway('rate limit redis cut', {
      env: { REDIS_URL: proxy.proxiedUrl(redisUrl), RATE_LIMIT_REST_REQUESTS: '5' },
      log: sink.log,
    });
    const failOpen = async () => {
      const m = /^reten_rate_limit_fail_open(?:\{[^}]*\})? (\d+)$/m.exec(
        (await api(gw, 'GET', '/metrics', undefined, { auth: null })).text,
      );
      return Number(m?.[1]);
    };
    try {
      expect(limitHeaders(await api(gw, 'GET', REST_PATH)).limit).toBe('5');
      proxy.cut();

      const during = await burst(gw, 20, undefined, 4);
      expect(during.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect((await api(gw, 'POST', '/v1.0/event/rate.cut', {})).status).toBe(202);
      expect(await failOpen()).toBe(1);
      const warnings = sink.lines.filter(
        (l) => l.msg === 'rate limiter cannot reach redis: failing open',
      );
      expect(warnings).toHaveLength(1);

      proxy.restore();
      await eventually(
        async () => {
          const res = await api(gw, 'GET', REST_PATH);
          expect(res.headers.get('x-ratelimit-limit')).toBe('5');
        },
        { timeoutMs: 10_000 },
      );
      expect(await failOpen()).toBe(0);
    } finally {
      await gw.close();
      await proxy.close();
    }
  });

  it('starts and serves with Redis unreachable from the start', async () => {
    const nothing = await freePort();
    const gw = await startTestGateway('rate limit no redis', {
      env: { REDIS_URL: `redis://127.0.0.1:${nothing}` },
    });
    try {
      const res = await api(gw, 'GET', REST_PATH);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      expect((await api(gw, 'POST', '/v1.0/event/rate.noredis', {})).status).toBe(202);
    } finally {
      await gw.close();
    }
  });
});
