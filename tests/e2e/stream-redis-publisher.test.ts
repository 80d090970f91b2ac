import { TcpProxy, eventually, testServers } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { TestClient } from '../../services/stream/src/test-client';
import { ingestMany, metricValue } from './stream-helpers';

jest.setTimeout(60_000);

let gw: TestGateway;
let proxy: TcpProxy;
let replica: TestStream;
let client: TestClient | undefined;

beforeAll(async () => {
  gw = await startTestGateway('stream redis publisher cut', { tenantId: 'acme' });
  const { redisUrl } = await testServers();
  const u = new URL(redisUrl);
  proxy = await TcpProxy.start(u.hostname, Number(u.port || 6379));
  // the only replica: it is the active consumer, and both its Redis connections (PUBLISH and
  // SUBSCRIBE) go through the proxy
  replica = await startTestStream({
    schema: gw.schema,
    vhost: gw.vhost,
    redisPrefix: testRedisPrefix('stream redis publisher cut'),
    redisUrl: proxy.proxiedUrl(redisUrl),
  });
});

afterAll(async () => {
  client?.close();
  await replica?.close();
  await proxy?.close();
  await gw?.close();
});

it('loses nothing when the active consumer’s Redis is cut: messages stay unacked until Redis takes them', async () => {
  const writeKey = await gw.createKey('acme', ['events:write']);
  const streamKey = await gw.createKey('acme', ['stream:read']);
  client = new TestClient(`${replica.wsUrl}?types=*`, { token: streamKey });
  await client.waitFor('subscribed');
  const before = await ingestMany(gw, writeKey, 'order.created', 3);
  await eventually(() => expect(client?.eventIds()).toEqual(before));

  proxy.cut();
  const during = await ingestMany(gw, writeKey, 'order.created', 5);
  proxy.restore();
  const after = await ingestMany(gw, writeKey, 'order.created', 2);

  await eventually(() => expect(client?.eventIds()).toEqual([...before, ...during, ...after]), {
    timeoutMs: 30_000,
  });
  expect(client.closeCode).toBeUndefined();
  expect(await metricValue(replica.httpUrl, 'reten_stream_redis_published_total')).toBe(10);
});
