import { apiKeyIdOf } from '@reten/auth';
import { eventually } from '@reten/testing';
import { api } from '../../services/gateway/src/test-api';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { TestClient } from '../../services/stream/src/test-client';
import { ingest } from './stream-helpers';

jest.setTimeout(60_000);

/** Far below the re-check period: only the revocation notification can close this fast. */
const PROMPT_MS = 5_000;
const REAUTH_INTERVAL_MS = 600_000;

let gw: TestGateway;
let replicas: TestStream[];
const clients: TestClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway('stream revocation', { tenantId: 'acme' });
  const redisPrefix = testRedisPrefix('stream revocation');
  const env = { STREAM_REAUTH_INTERVAL_MS: String(REAUTH_INTERVAL_MS) };
  replicas = [
    await startTestStream({ schema: gw.schema, vhost: gw.vhost, redisPrefix, env }),
    await startTestStream({ schema: gw.schema, vhost: gw.vhost, redisPrefix, env }),
  ];
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of replicas) await r.close();
  await gw?.close();
});

async function subscribed(url: string, token: string): Promise<TestClient> {
  const client = new TestClient(`${url}?types=*`, { token });
  clients.push(client);
  await client.waitFor('subscribed');
  return client;
}

it('closes with 4401, on every replica and at once, the streams of a key revoked through the API and of tokens issued for it', async () => {
  const [a, b] = replicas;
  if (!a || !b) throw new Error('two replicas expected');
  const doomedKey = await gw.createKey('acme', ['stream:read'], 'revoked soon');
  const keptKey = await gw.createKey('acme', ['stream:read'], 'kept');
  const writeKey = await gw.createKey('acme', ['events:write']);
  const issued = await api(
    gw,
    'POST',
    '/api/v1/auth/token',
    { scopes: ['stream:read'] },
    {
      auth: doomedKey,
    },
  );
  expect(issued.status).toBe(200);
  const token = (issued.body as { access_token: string }).access_token;

  const doomed = [
    await subscribed(a.wsUrl, doomedKey),
    await subscribed(b.wsUrl, doomedKey),
    await subscribed(a.wsUrl, token),
    await subscribed(b.wsUrl, token),
  ];
  const kept = [await subscribed(a.wsUrl, keptKey), await subscribed(b.wsUrl, keptKey)];

  const keyId = apiKeyIdOf(doomedKey);
  const revokedAt = Date.now();
  expect((await api(gw, 'DELETE', `/api/v1/api-keys/${keyId ?? ''}`)).status).toBe(204);
  for (const client of doomed) expect(await client.waitClosed(PROMPT_MS)).toBe(4401);
  expect(Date.now() - revokedAt).toBeLessThan(PROMPT_MS);
  expect(PROMPT_MS * 10).toBeLessThanOrEqual(REAUTH_INTERVAL_MS);
  for (const client of doomed) {
    expect(client.control('error').at(-1)).toMatchObject({ error: { code: 'unauthorized' } });
  }

  const id = await ingest(gw, writeKey, 'order.created');
  for (const client of kept) {
    await eventually(() => expect(client.eventIds()).toContain(id));
    expect(client.closeCode).toBeUndefined();
  }
});
