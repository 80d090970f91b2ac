import { TcpProxy, eventually, testServers } from '@reten/testing';
import { startTestGateway } from '../../services/gateway/src/test-fixture';
import type { TestGateway } from '../../services/gateway/src/test-fixture';
import { startTestStream, testRedisPrefix } from '../../services/stream/src/test-fixture';
import type { TestStream } from '../../services/stream/src/test-fixture';
import { TestClient } from '../../services/stream/src/test-client';
import { ingestMany } from './stream-helpers';

jest.setTimeout(60_000);

let gw: TestGateway;
let proxy: TcpProxy;
let replica: TestStream;
let client: TestClient | undefined;

beforeAll(async () => {
  gw = await startTestGateway('stream broker cut', { tenantId: 'acme' });
  const { rabbitUrl } = await testServers();
  const u = new URL(rabbitUrl);
  proxy = await TcpProxy.start(u.hostname, Number(u.port || 5672));
  // the only replica, so the only consumer of reten.stream, reaches RabbitMQ through the proxy
  replica = await startTestStream({
    schema: gw.schema,
    vhost: gw.vhost,
    redisPrefix: testRedisPrefix('stream broker cut'),
    env: { RABBITMQ_URL: proxy.proxiedUrl(gw.vhost.url) },
  });
});

afterAll(async () => {
  client?.close();
  await replica?.close();
  await proxy?.close();
  await gw?.close();
});

it('keeps its clients through a RabbitMQ cut and delivers what was published meanwhile, in order, once', async () => {
  const writeKey = await gw.createKey('acme', ['events:write']);
  const streamKey = await gw.createKey('acme', ['stream:read']);
  client = new TestClient(`${replica.wsUrl}?types=*`, { token: streamKey });
  await client.waitFor('subscribed');
  await eventually(async () => {
    const ready = (await (await fetch(`${replica.httpUrl}/readyz`)).json()) as {
      checks: { rabbitmq: { ok: boolean } };
    };
    expect(ready.checks.rabbitmq.ok).toBe(true);
  });
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
});
