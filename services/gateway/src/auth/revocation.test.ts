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

  it('refuses a key and its tokens on the other replica as soon as DELETE has answered', async () => {
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

      // no polling: the very next request to the other replica is refused
      const onB = await api(b, 'GET', '/api/v1/events', undefined, { auth: key });
      const tokenOnB = await api(b, 'GET', '/api/v1/events', undefined, { auth: token });
      expect([onB.status, tokenOnB.status]).toEqual([401, 401]);
      expect(onB.body).toMatchObject({ error: { message: 'The API key has been revoked' } });
    }
  });
});
