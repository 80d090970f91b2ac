import { startTestGateway } from './test-fixture';
import type { TestGateway } from './test-fixture';
import { api, eventIdOf } from './test-api';

const BODY_LIMIT_BYTES = 4096;

describe('bad input: an error envelope and nothing stored', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('bad input', {
      env: { BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  async function storedCount(): Promise<number> {
    const res = await gw.schema.pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM idempotency_keys) AS n`,
    );
    return Number(res.rows[0]!.n);
  }

  async function expectRejected(
    res: Awaited<ReturnType<typeof api>>,
    status: number,
    code: string,
  ): Promise<void> {
    expect({ status: res.status, body: res.body }).toEqual({
      status,
      body: {
        error: expect.objectContaining({ code, status, message: expect.any(String) }),
      },
    });
    expect(await storedCount()).toBe(0);
  }

  const idem = { 'idempotency-key': 'bad-input-key' };

  it.each(['/v1.0/event/log:ClientLog', '/api/v1/events'])(
    'answers 400 invalid_json to a malformed JSON body on %s',
    async (path) => {
      const res = await api(gw, 'POST', path, '{"event_type": "a", ', { raw: true, headers: idem });
      await expectRejected(res, 400, 'invalid_json');
    },
  );

  it('answers 400 invalid_json to an empty body declared as JSON', async () => {
    const res = await api(gw, 'POST', '/v1.0/event/log:ClientLog', '', { raw: true });
    await expectRejected(res, 400, 'invalid_json');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded'])(
    'answers 415 unsupported_media_type to a %s body',
    async (type) => {
      const res = await api(gw, 'POST', '/v1.0/event/log:ClientLog', 'a=1', {
        raw: true,
        headers: { 'content-type': type, ...idem },
      });
      await expectRejected(res, 415, 'unsupported_media_type');
    },
  );

  it('answers 413 payload_too_large to a body over BODY_LIMIT_BYTES', async () => {
    const res = await api(
      gw,
      'POST',
      '/v1.0/event/log:ClientLog',
      { pad: 'x'.repeat(BODY_LIMIT_BYTES) },
      { headers: idem },
    );
    await expectRejected(res, 413, 'payload_too_large');
  });

  it('answers 422 with details[].path to an invalid event type name or an unknown field', async () => {
    const res = await api(gw, 'POST', '/api/v1/events', { event_type: 'bad type!', data: {} });
    await expectRejected(res, 422, 'validation_failed');
    expect(res.body).toMatchObject({
      error: { details: [{ path: 'body.event_type', message: expect.any(String) }] },
    });
    const long = await api(gw, 'POST', `/v1.0/event/${'a'.repeat(129)}`, {});
    await expectRejected(long, 422, 'validation_failed');

    const extra = await api(gw, 'POST', '/api/v1/events', { event_type: 'a', data: {}, x: 1 });
    await expectRejected(extra, 422, 'validation_failed');
    const noData = await api(gw, 'POST', '/api/v1/events', { event_type: 'a' });
    await expectRejected(noData, 422, 'validation_failed');
    expect(noData.body).toMatchObject({ error: { details: [{ path: 'body.data' }] } });
  });

  it('answers 422 to a string or key holding U+0000, which PostgreSQL cannot store', async () => {
    for (const body of [{ msg: 'a\u0000b' }, { 'k\u0000': 1 }, ['\u0000']]) {
      const res = await api(gw, 'POST', '/v1.0/event/log:ClientLog', body, { headers: idem });
      await expectRejected(res, 422, 'validation_failed');
    }
    const rest = await api(gw, 'POST', '/api/v1/events', { event_type: 'a', data: '\u0000' });
    await expectRejected(rest, 422, 'validation_failed');
    const put = await api(gw, 'PUT', '/api/v1/events/evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V', {
      data: { s: '\\\u0000' },
    });
    await expectRejected(put, 422, 'validation_failed');
    expect(put.body).toMatchObject({ error: { details: [{ path: 'body.data.s' }] } });
  });

  it('answers 404 route_not_found in the envelope to an unknown route', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/api/v1/nothing-here'],
      ['DELETE', '/api/v1/events/evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V/x'],
    ] as const) {
      const res = await api(gw, method, path);
      await expectRejected(res, 404, 'route_not_found');
    }
  });

  it('answers 405 method_not_allowed with Allow to a known path asked with another method', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/api/v1/events', 'GET, POST, HEAD'],
      ['PATCH', '/api/v1/events/evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V', 'GET, PUT, HEAD'],
      ['GET', '/v1.0/event/order.created', 'POST'],
    ] as const) {
      const res = await api(gw, method, path, method === 'GET' ? undefined : {});
      await expectRejected(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow')).toBe(allow);
    }
  });

  it('stores a string holding the six characters \\u0000 (a backslash, not U+0000)', async () => {
    const data = { path: 'C:\\u0000dir', escaped: '\\\\u0000' };
    const res = await api(gw, 'POST', '/v1.0/event/log:ClientLog', data);
    const read = await api(gw, 'GET', `/api/v1/events/${eventIdOf(res)}`);
    expect((read.body as { data: unknown }).data).toEqual(data);
  });
});
