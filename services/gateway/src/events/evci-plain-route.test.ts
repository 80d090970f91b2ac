import { gzipSync } from 'node:zlib';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';
import type { ApiOptions, ApiResponse } from '../test-api';

/**
 * `POST /v1.0/event/{type}` spelt exactly so is answered ahead of express (withPlainRoutes); the
 * same route with a trailing slash is routed by express (non-strict routing) through the same
 * chain. Every answer must be the same on both: status, error code and details, and headers.
 */
const PLAIN = '/v1.0/event/parity.test';
const EXPRESS = '/v1.0/event/parity.test/';

/** What must be equal between the two paths (the event id and counters aside). */
function shape(res: ApiResponse) {
  const error = (res.body as { error?: { code: string; details?: { path: string }[] } }).error;
  const header = (name: string) => res.headers.get(name);
  return {
    status: res.status,
    code: error?.code,
    details: error?.details?.map((d) => d.path),
    eventId: typeof (res.body as { event_id?: unknown }).event_id,
    contentType: header('content-type'),
    challenge: header('www-authenticate'),
    limit: header('x-ratelimit-limit'),
    hasRemaining: header('x-ratelimit-remaining') !== null,
    retryAfter: header('retry-after'),
    replayed: header('idempotent-replayed'),
    poweredBy: header('x-powered-by'),
  };
}

async function both(
  gw: TestGateway,
  body: unknown,
  options: (path: string) => ApiOptions = () => ({}),
) {
  const plain = await api(gw, 'POST', PLAIN, body, options(PLAIN));
  const viaExpress = await api(gw, 'POST', EXPRESS, body, options(EXPRESS));
  return { plain: shape(plain), express: shape(viaExpress) };
}

describe('EVCI on the plain route answers exactly as the express route', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('evci plain route', { env: { BODY_LIMIT_BYTES: '4096' } });
  });

  afterAll(async () => {
    await gw?.close();
  });

  const cases: [string, unknown, (path: string) => ApiOptions, number][] = [
    ['an accepted event', { n: 1 }, () => ({}), 202],
    ['no credentials', { n: 1 }, () => ({ auth: null }), 401],
    ['another auth scheme', { n: 1 }, () => ({ headers: { authorization: 'Basic eDp5' } }), 401],
    ['an unknown key', { n: 1 }, () => ({ auth: 'rtn_nope' }), 401],
    ['text/plain', 'hello', () => ({ raw: true, headers: { 'content-type': 'text/plain' } }), 415],
    [
      'a charset other than UTF-8',
      '{}',
      () => ({ raw: true, headers: { 'content-type': 'application/json; charset=latin1' } }),
      415,
    ],
    ['invalid JSON', '{"n":', () => ({ raw: true }), 400],
    ['an empty body', '', () => ({ raw: true }), 400],
    ['a body over the limit', { pad: 'x'.repeat(5000) }, () => ({}), 413],
    ['a NUL character in the data', { s: 'a\u0000b' }, () => ({}), 422],
    [
      'an invalid ordering key',
      { n: 1 },
      () => ({ headers: { 'reten-ordering-key': 'has space' } }),
      422,
    ],
    [
      'an invalid Idempotency-Key',
      { n: 1 },
      () => ({ headers: { 'idempotency-key': 'has space' } }),
      422,
    ],
    [
      'a gzip body',
      gzipSync(Buffer.from('{"zipped":true}')),
      () => ({ raw: true, headers: { 'content-encoding': 'gzip' } }),
      202,
    ],
    [
      'an unknown Content-Encoding',
      '{}',
      () => ({ raw: true, headers: { 'content-encoding': 'zstd-nope' } }),
      415,
    ],
  ];

  it.each(cases)('%s', async (_name, body, options, status) => {
    const { plain, express } = await both(gw, body, options);
    expect(plain.status).toBe(status);
    expect(plain).toEqual(express);
  });

  it('a key without events:write: 403 on both', async () => {
    const reader = await gw.createKey(gw.tenantId, ['events:read'], 'reader');
    const { plain, express } = await both(gw, { n: 1 }, () => ({ auth: reader }));
    expect(plain.status).toBe(403);
    expect(plain).toEqual(express);
  });

  it('an invalid type: the same 422 on both', async () => {
    const type = `reten.${'x'.repeat(10)}`;
    const plain = shape(await api(gw, 'POST', `/v1.0/event/${type}`, { n: 1 }));
    const viaExpress = shape(await api(gw, 'POST', `/v1.0/event/${type}/`, { n: 1 }));
    expect(plain.status).toBe(422);
    expect(plain).toEqual(viaExpress);
  });

  it('Idempotency-Key: the first answer is replayed on both', async () => {
    const key = (path: string) => ({ headers: { 'idempotency-key': `parity-${path.length}` } });
    const first = await both(gw, { n: 2 }, key);
    const again = await both(gw, { n: 2 }, key);
    expect(first.plain).toEqual(first.express);
    expect(again.plain).toEqual(again.express);
    expect(again.plain.replayed).toBe('true');
  });

  it('counts both in the same request metric series', async () => {
    const metric = async () => {
      const text = (await api(gw, 'GET', '/metrics', undefined, { auth: null })).text;
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('http_request_duration_seconds_count{') &&
            l.includes('method="POST"') &&
            l.includes('route="/v1.0/event/:type"') &&
            l.includes('status="202"'),
        );
      return Number(line?.split(' ').pop() ?? 0);
    };
    const before = await metric();
    await both(gw, { n: 3 });
    expect(await metric()).toBe(before + 2);
  });

  it('over the rate limit: the same 429 on both', async () => {
    const limited = await startTestGateway('evci plain route limited', {
      env: { RATE_LIMIT_INGEST_REQUESTS: '2', RATE_LIMIT_INGEST_WINDOW_SECONDS: '60' },
    });
    try {
      for (let i = 0; i < 2; i++) {
        expect((await api(limited, 'POST', PLAIN, { i })).status).toBe(202);
      }
      const { plain, express } = await both(limited, { n: 1 });
      expect(plain.status).toBe(429);
      expect(plain.code).toBe('rate_limit_exceeded');
      expect(plain).toEqual({ ...express, retryAfter: plain.retryAfter });
      expect(Number(plain.retryAfter)).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
