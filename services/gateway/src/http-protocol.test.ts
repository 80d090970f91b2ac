import { connect } from 'node:net';
import { startTestGateway } from './test-fixture';
import type { TestGateway } from './test-fixture';
import { api } from './test-api';

interface RawAnswer {
  status: number;
  headers: string;
  body: unknown;
}

/** Writes raw bytes to the gateway and reads until it closes the connection (bounded). */
function rawExchange(
  gw: TestGateway,
  request: string | Buffer,
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.gateway.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      let parsed: unknown = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        // left as text: the assertion shows it
      }
      resolve({ status, headers: head, body: parsed });
    });
    socket.write(request);
  });
}

const envelope = (code: string, status: number) => ({
  error: expect.objectContaining({ code, status, message: expect.any(String) }),
});

describe('HTTP protocol errors: the envelope where Node answers, bounded timeouts', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('http protocol', {
      env: { HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '1000' },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('answers 431 in the envelope to headers over 16 KiB', async () => {
    const res = await rawExchange(
      gw,
      `GET /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect({ status: res.status, body: res.body }).toEqual({
      status: 431,
      body: envelope('request_header_fields_too_large', 431),
    });
  });

  it.each([
    ['a bare LF in a header', 'GET /healthz HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n'],
    ['a NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n'],
    ['a malformed request line', 'GET /healthz HTTP/9\r\n\r\n'],
  ])('answers 400 in the envelope to %s', async (_what, request) => {
    const res = await rawExchange(gw, request);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: envelope('bad_request', 400),
    });
  });

  it('answers 408 in the envelope when the body stops short, after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const started = Date.now();
    const res = await rawExchange(
      gw,
      `POST /v1.0/event/order.created HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${gw.apiKey}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    expect({ status: res.status, body: res.body }).toEqual({
      status: 408,
      body: envelope('request_timeout', 408),
    });
    // bounded by the setting (plus Node's check interval), not Node's 300 s default
    expect(Date.now() - started).toBeLessThan(5000);
    const stored = await gw.schema.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events',
    );
    expect(stored.rows[0]?.n).toBe(0);
  });

  it('answers 401 with WWW-Authenticate to an API key sent without the Bearer scheme', async () => {
    for (const authorization of [gw.apiKey, `Basic ${gw.apiKey}`, `Token ${gw.apiKey}`]) {
      const res = await api(gw, 'GET', '/api/v1/events', undefined, {
        headers: { authorization },
      });
      expect({ status: res.status, body: res.body }).toEqual({
        status: 401,
        body: envelope('unauthorized', 401),
      });
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="reten", error="invalid_request"/,
      );
    }
    expect((await api(gw, 'GET', '/api/v1/events')).status).toBe(200);
    const lower = await api(gw, 'GET', '/api/v1/events', undefined, {
      headers: { authorization: `bearer ${gw.apiKey}` },
    });
    expect(lower.status).toBe(200);
  });
});
