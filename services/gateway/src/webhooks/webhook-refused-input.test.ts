import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';
import type { ApiResponse } from '../test-api';

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const PUBLIC_URL = 'https://93.184.216.34/hook';

function errorOf(res: ApiResponse): ErrorBody['error'] {
  return (res.body as ErrorBody).error;
}

async function storedUrls(gw: TestGateway): Promise<string[]> {
  const list = await api(gw, 'GET', '/api/v1/webhooks?limit=100');
  return (list.body as { data: { url: string }[] }).data.map((e) => e.url);
}

describe('webhook create and update refuse what can never be delivered', () => {
  let gw: TestGateway;

  // the production policy (https, public targets only): the gateway's defaults
  beforeAll(async () => {
    gw = await startTestGateway('webhook refused input');
  });
  afterAll(async () => {
    await gw?.close();
  });

  describe('targets in special-purpose address blocks', () => {
    it.each([
      ['https://[::127.0.0.1]/hook', 'IPv4-Compatible IPv6 Address'],
      ['https://[::a00:1]/hook', 'IPv4-Compatible IPv6 Address'],
      ['https://[::ffff:8.8.8.8]/hook', 'IPv4-mapped Address'],
      ['https://[64:ff9b::a9fe:a9fe]/hook', 'NAT64 of 169.254.169.254'],
      ['https://[2002:a00:1::1]/hook', '6to4'],
      ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook', 'TEREDO'],
      ['https://[2001:db8::1]/hook', 'Documentation'],
      ['https://[5f00::1]/hook', 'Segment Routing'],
      ['https://[fec0::1]/hook', 'Site-Local'],
      ['https://[100::1]/hook', 'Discard-Only'],
      ['https://192.0.0.170/hook', 'NAT64/DNS64 Discovery'],
      ['https://198.18.0.1/hook', 'Benchmarking'],
    ])('answers 422 naming the block for %s, and stores nothing', async (url, block) => {
      const res = await api(gw, 'POST', '/api/v1/webhooks', { url });
      expect(res.status).toBe(422);
      const error = errorOf(res);
      expect(error.code).toBe('validation_failed');
      expect(error.details).toEqual([
        { path: 'body.url', message: expect.stringContaining('is not a public address') },
      ]);
      expect(error.message).toContain(block);
      expect(await storedUrls(gw)).not.toContain(new URL(url).toString());
    });

    it('answers 422 on PATCH to an IPv4-compatible address and keeps the old URL', async () => {
      const created = await api(gw, 'POST', '/api/v1/webhooks', { url: PUBLIC_URL });
      expect(created.status).toBe(201);
      const id = (created.body as { id: string }).id;
      const res = await api(gw, 'PATCH', `/api/v1/webhooks/${id}`, {
        url: 'https://[::127.0.0.1]/b',
      });
      expect(res.status).toBe(422);
      expect(errorOf(res).message).toContain('IPv4-Compatible IPv6 Address');
      const got = await api(gw, 'GET', `/api/v1/webhooks/${id}`);
      expect((got.body as { url: string }).url).toBe(PUBLIC_URL);
    });
  });

  describe('custom headers an HTTP client cannot send', () => {
    const REFUSED = [
      'Expect',
      'Upgrade',
      'Keep-Alive',
      'Connection',
      'Transfer-Encoding',
      'Host',
      'Content-Length',
      'TE',
      'Trailer',
      'Proxy-Authorization',
      'Proxy-Connection',
      'HTTP2-Settings',
      'X-Reten-Signature',
      'webhook-signature',
      'Webhook-Id',
      'webhook-timestamp',
    ];

    it.each(REFUSED)('answers 422 naming %s at create, and stores nothing', async (name) => {
      const before = (await storedUrls(gw)).length;
      const res = await api(gw, 'POST', '/api/v1/webhooks', {
        url: PUBLIC_URL,
        headers: { 'X-Api-Key': 'fine', [name]: 'x' },
      });
      expect(res.status).toBe(422);
      const error = errorOf(res);
      expect(error.code).toBe('validation_failed');
      expect(error.details).toEqual([
        { path: `body.headers.${name}`, message: expect.stringContaining(name) },
      ]);
      expect(error.message).toContain(name);
      expect((await storedUrls(gw)).length).toBe(before);
    });

    it.each(REFUSED)('answers 422 naming %s at update, and keeps the headers', async (name) => {
      const created = await api(gw, 'POST', '/api/v1/webhooks', {
        url: PUBLIC_URL,
        headers: { 'X-Api-Key': 'before' },
      });
      expect(created.status).toBe(201);
      const id = (created.body as { id: string }).id;
      const res = await api(gw, 'PATCH', `/api/v1/webhooks/${id}`, { headers: { [name]: 'x' } });
      expect(res.status).toBe(422);
      expect(errorOf(res).details).toEqual([
        { path: `body.headers.${name}`, message: expect.stringContaining(name) },
      ]);
      const got = await api(gw, 'GET', `/api/v1/webhooks/${id}`);
      expect((got.body as { headers: Record<string, string> }).headers).toEqual({
        'X-Api-Key': 'before',
      });
    });

    it('accepts ordinary custom headers, Authorization included (the refusals are not vacuous)', async () => {
      const headers = { Authorization: 'Bearer receiver-token', 'X-Api-Key': 'k', 'X-Te': 'ok' };
      const res = await api(gw, 'POST', '/api/v1/webhooks', { url: PUBLIC_URL, headers });
      expect(res.status).toBe(201);
      expect((res.body as { headers: Record<string, string> }).headers).toEqual(headers);
    });
  });
});
