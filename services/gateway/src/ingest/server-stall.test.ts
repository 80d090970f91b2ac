import { TcpProxy, createTestSchema, eventually, testServers } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import { api } from '../test-api';

/**
 * Stalled servers (no reset, no FIN: a dead peer or a dropped route) in front of the gateway:
 * `/readyz` reports what the gateway cannot work without while the stall lasts, and ingest
 * recovers by itself within a bound once the stall ends.
 */
describe('gateway with a stalled server (fault test)', () => {
  it('fails /readyz on postgres while PostgreSQL is stalled, and accepts events again after it', async () => {
    const schema = await createTestSchema('pg stall');
    const pg = new URL(schema.databaseUrl);
    const proxy = await TcpProxy.start(pg.hostname, Number(pg.port || 5432));
    const gw = await startTestGateway('pg stall', {
      schema: { ...schema, databaseUrl: proxy.proxiedUrl(schema.databaseUrl) },
    });
    try {
      expect((await api(gw, 'POST', '/v1.0/event/pg.stall', { n: 0 })).status).toBe(202);
      proxy.stall();
      await eventually(
        async () => {
          const res = await api(gw, 'GET', '/readyz', undefined, { auth: null });
          expect(res.status).toBe(503);
          expect(res.body).toMatchObject({ checks: { postgres: { ok: false } } });
        },
        { timeoutMs: 10_000 },
      );
      // a request sent during the stall completes once it ends: nothing was lost on the way
      const during = api(gw, 'POST', '/v1.0/event/pg.stall', { n: 1 });
      proxy.resume();
      expect((await during).status).toBe(202);
      await eventually(
        async () =>
          expect((await api(gw, 'GET', '/readyz', undefined, { auth: null })).status).toBe(200),
        { timeoutMs: 10_000 },
      );
      expect((await api(gw, 'POST', '/v1.0/event/pg.stall', { n: 2 })).status).toBe(202);
      const stored = await schema.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE event_type = 'pg.stall'`,
      );
      expect(stored.rows[0]!.n).toBe(3);
    } finally {
      await gw.close();
      await proxy.close();
      await schema.drop();
    }
  });

  it('keeps accepting events while Redis is stalled (rate limits fail open within their timeout)', async () => {
    const redis = new URL((await testServers()).redisUrl);
    const proxy = await TcpProxy.start(redis.hostname, Number(redis.port || 6379));
    const gw = await startTestGateway('redis stall', {
      env: { REDIS_URL: proxy.proxiedUrl(redis.toString()), RATE_LIMIT_REDIS_TIMEOUT_MS: '200' },
    });
    try {
      expect((await api(gw, 'POST', '/v1.0/event/redis.stall', { n: 0 })).status).toBe(202);
      // the broker connects in the background: readiness must be whole before Redis stalls
      await eventually(
        async () =>
          expect((await api(gw, 'GET', '/readyz', undefined, { auth: null })).status).toBe(200),
        { timeoutMs: 10_000 },
      );
      proxy.stall();
      for (let n = 1; n <= 3; n += 1) {
        expect((await api(gw, 'POST', '/v1.0/event/redis.stall', { n })).status).toBe(202);
      }
      expect((await api(gw, 'GET', '/readyz', undefined, { auth: null })).status).toBe(200);
      proxy.resume();
      expect((await api(gw, 'POST', '/v1.0/event/redis.stall', { n: 4 })).status).toBe(202);
    } finally {
      await gw.close();
      await proxy.close();
    }
  });
});
