import { TcpProxy, createTestSchema, eventually, logSink } from '@reten/testing';
import type { TestSchema } from '@reten/testing';
import { startTestGateway } from './test-fixture';
import type { TestGateway } from './test-fixture';
import { api } from './test-api';
import type { ApiResponse } from './test-api';

/** The answer to a request the database failed: 503 with the envelope and Retry-After, never a 500. */
function expectUnavailable(res: ApiResponse, message: RegExp): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 503,
    body: {
      error: { code: 'service_unavailable', message: expect.stringMatching(message), status: 503 },
    },
  });
  expect(res.headers.get('retry-after')).toBe('1');
}

describe('REST reads when PostgreSQL times out, stalls or is cut', () => {
  const STATEMENT_TIMEOUT_MS = 1_000;
  let schema: TestSchema;
  let proxy: TcpProxy;
  let gw: TestGateway;
  const sink = logSink('warn');

  beforeAll(async () => {
    schema = await createTestSchema('database errors');
    const pg = new URL(schema.databaseUrl);
    proxy = await TcpProxy.start(pg.hostname, Number(pg.port || 5432));
    // the gateway reaches PostgreSQL only through the proxy; the test reads it directly
    const proxied = { ...schema, databaseUrl: proxy.proxiedUrl(schema.databaseUrl) };
    gw = await startTestGateway('database errors', {
      schema: proxied,
      env: { DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) },
      log: sink.log,
    });
    // an event to list, and the key's lookup cached: the requests below reach their route
    expect((await api(gw, 'POST', '/v1.0/event/db.errors', { n: 1 })).status).toBe(202);
    expect((await api(gw, 'GET', '/api/v1/events?limit=1')).status).toBe(200);
  });

  afterAll(async () => {
    proxy?.restore();
    await gw?.close();
    await proxy?.close();
    await schema?.drop();
  });

  /** 200 again once the database answers (the pool replaces what it lost). */
  async function listsAgain(): Promise<void> {
    await eventually(
      async () => expect((await api(gw, 'GET', '/api/v1/events?limit=1')).status).toBe(200),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  }

  it('answers 503 with Retry-After when a read passes the statement timeout, and logs no unhandled error', async () => {
    const blocker = await schema.pool.connect();
    try {
      // the list waits for this lock until the server cancels it (statement_timeout)
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const res = await api(gw, 'GET', '/api/v1/events?limit=1');
      expectUnavailable(res, /did not answer in time/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
    await listsAgain();
    const logged = sink.lines.filter((l) => l.msg === 'unhandled request error');
    expect(logged).toEqual([]);
    expect(sink.lines.some((l) => l.msg === 'The database did not answer in time; retry')).toBe(
      true,
    );
  });

  it('answers 503 within its bound when PostgreSQL stops answering without closing', async () => {
    proxy.stall();
    try {
      const started = Date.now();
      const res = await api(gw, 'GET', '/api/v1/events?limit=1');
      expectUnavailable(res, /did not answer in time|cannot be reached/);
      // the client's own bound: the statement timeout plus a margin (packages/store/src/pool.ts)
      expect(Date.now() - started).toBeLessThan(STATEMENT_TIMEOUT_MS + 5_000);
    } finally {
      proxy.resume();
    }
    await listsAgain();
  });

  it('answers 503 when the connection to PostgreSQL is cut, on every read route', async () => {
    proxy.cut();
    try {
      for (const path of ['/api/v1/events?limit=1', '/api/v1/webhooks', '/api/v1/event-types']) {
        const res = await api(gw, 'GET', path);
        // the route's own query, or the key's lookup if its cache entry is due: both a 503
        expectUnavailable(res, /cannot be reached|Credentials cannot be checked/);
      }
    } finally {
      proxy.restore();
    }
    await listsAgain();
    expect(sink.lines.filter((l) => l.msg === 'unhandled request error')).toEqual([]);
  });
});
