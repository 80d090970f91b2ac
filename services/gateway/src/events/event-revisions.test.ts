import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

describe('GET /api/v1/events/{id}/revisions', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway('event revisions');
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('lists every revision oldest first, with its data, marking the current one', async () => {
    const id = eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', { status: 'new' }));
    const put = await api(gw, 'PUT', `/api/v1/events/${id}`, { data: { status: 'paid' } });
    expect(put.status).toBe(200);
    const res = await api(gw, 'GET', `/api/v1/events/${id}/revisions`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: [
        expect.objectContaining({ revision: 1, data: { status: 'new' }, current: false }),
        expect.objectContaining({ revision: 2, data: { status: 'paid' }, current: true }),
      ],
    });
  });

  it('answers 404 for an event of another tenant and for an unknown id', async () => {
    const id = eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', { n: 1 }));
    const other = await gw.createKey('globex', ['events:read']);
    const foreign = await api(
      { url: gw.url, apiKey: other },
      'GET',
      `/api/v1/events/${id}/revisions`,
    );
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ error: { code: 'not_found', status: 404 } });
    const unknown = await api(gw, 'GET', '/api/v1/events/evt_01J00000000000000000000000/revisions');
    expect(unknown.status).toBe(404);
  });

  it('needs the events:read scope', async () => {
    const writer = await gw.createKey(gw.tenantId, ['events:write']);
    const id = eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', { n: 2 }));
    const res = await api({ url: gw.url, apiKey: writer }, 'GET', `/api/v1/events/${id}/revisions`);
    expect(res.status).toBe(403);
  });
});
