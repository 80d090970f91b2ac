import type { DeliveryStore } from './delivery-store';
import type { Endpoint } from './endpoint';
import { EndpointCache } from './endpoint-cache';

function endpoint(id: string): Endpoint {
  return {
    id,
    tenantId: 't',
    url: 'https://example.com/',
    eventTypes: [],
    enabled: true,
    rateLimitPerSecond: 100,
    headers: {},
    retryScheduleSeconds: null,
    signing: 'hmac',
    secret: 'whsec_x',
    previousSecret: null,
    previousSecretExpiresAt: null,
    privateKey: null,
    onFailure: 'skip',
  };
}

/** A store whose endpoint list the test changes, counting loads. */
function fakeStore(initial: Endpoint[]) {
  const state = { endpoints: initial, loads: 0 };
  const store = {
    endpointsOf: () => {
      state.loads += 1;
      return Promise.resolve([...state.endpoints]);
    },
  } as unknown as DeliveryStore;
  return { store, state };
}

describe('EndpointCache', () => {
  it('serves a tenant from memory until invalidated', async () => {
    const { store, state } = fakeStore([endpoint('a')]);
    const cache = new EndpointCache(store, 60_000);
    await cache.forTenant('t');
    state.endpoints = [endpoint('a'), endpoint('b')];
    expect((await cache.forTenant('t')).map((e) => e.id)).toEqual(['a']);
    cache.invalidate('t');
    expect((await cache.forTenant('t')).map((e) => e.id)).toEqual(['a', 'b']);
    expect(state.loads).toBe(2);
  });

  it('reloads once when asked for an endpoint it does not know yet', async () => {
    const { store, state } = fakeStore([endpoint('a')]);
    const cache = new EndpointCache(store, 60_000);
    await cache.forTenant('t');
    state.endpoints = [endpoint('a'), endpoint('new')];
    expect((await cache.get('t', 'new'))?.id).toBe('new');
    expect(await cache.get('t', 'gone')).toBeUndefined();
    expect(state.loads).toBe(3);
  });

  it('does not cache when the TTL is 0', async () => {
    const { store, state } = fakeStore([endpoint('a')]);
    const cache = new EndpointCache(store, 0);
    await cache.forTenant('t');
    await cache.forTenant('t');
    expect(state.loads).toBe(2);
  });

  it('picks the receivers of an event type once per load, and again after an invalidation', async () => {
    const { store, state } = fakeStore([endpoint('a'), endpoint('b')]);
    const cache = new EndpointCache(store, 60_000);
    let picks = 0;
    const onlyA = (all: Endpoint[]) => {
      picks += 1;
      return all.filter((e) => e.id === 'a');
    };
    const ids = async (type: string) => (await cache.receivers('t', type, onlyA)).map((e) => e.id);
    expect(await ids('order.created')).toEqual(['a']);
    expect(await ids('order.created')).toEqual(['a']);
    expect(await ids('order.paid')).toEqual(['a']);
    expect(picks).toBe(3); // the first (not loaded yet), then once per type
    state.endpoints = [endpoint('b')];
    cache.invalidate('t');
    expect(await ids('order.created')).toEqual([]);
    expect(await ids('order.created')).toEqual([]);
    expect(state.loads).toBe(2);
  });
});
