import { eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api } from '../test-api';

describe('API key revocation across gateway replicas', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    a = await startTestGateway('revocation replicas');
    b = await startTestGateway('revocation replicas', { schema: a.schema, vhost: a.vhost });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('refuses a key and its tokens at once on the revoking replica and within milliseconds on the other', async () => {
    for (let round = 0; round < 5; round += 1) {
      const key = await a.createKey(a.tenantId, ['events:read'], `replicated ${round}`);
      const token = (
        (await api(a, 'POST', '/api/v1/auth/token', undefined, { auth: key })).body as {
          access_token: string;
        }
      ).access_token;
      // both replicas have the key cached now
      for (const gw of [a, b]) {
        expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: key })).status).toBe(200);
        expect((await api(gw, 'GET', '/api/v1/events', undefined, { auth: token })).status).toBe(
          200,
        );
      }

      const del = await api(a, 'DELETE', `/api/v1/api-keys/ak_${key.slice(4, 20)}`);
      expect(del.status).toBe(204);

      // the revoking replica forgot the key before answering: no polling
      const onA = await api(a, 'GET', '/api/v1/events', undefined, { auth: key });
      const tokenOnA = await api(a, 'GET', '/api/v1/events', undefined, { auth: token });
      expect([onA.status, tokenOnA.status]).toEqual([401, 401]);
      expect(onA.body).toMatchObject({ error: { message: 'The API key has been revoked' } });
      // the other one hears the NOTIFY (PostgreSQL delivers it to each listener): a bounded wait
      await eventually(
        async () => {
          const onB = await api(b, 'GET', '/api/v1/events', undefined, { auth: key });
          const tokenOnB = await api(b, 'GET', '/api/v1/events', undefined, { auth: token });
          expect([onB.status, tokenOnB.status]).toEqual([401, 401]);
        },
        { timeoutMs: 3000, intervalMs: 5 },
      );
    }
  });
});
