import { TcpProxy, eventually, logSink, testServers, webhookReceiver } from '@reten/testing';
import type { LogSink, WebhookReceiver } from '@reten/testing';
import { startTestDelivery } from './test-fixture';
import type { TestDelivery } from './test-fixture';

/** The value of a series of the service's registry (0 when absent), by name and labels. */
async function metric(d: TestDelivery, name: string, labels: Record<string, string> = {}) {
  const found = (await d.service.registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return found?.value ?? 0;
}

describe('delivery service: Redis unreachable', () => {
  let proxy: TcpProxy;
  let sink: LogSink;
  let d: TestDelivery;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    const redis = new URL((await testServers()).redisUrl);
    proxy = await TcpProxy.start(redis.hostname, Number(redis.port || 6379));
    sink = logSink('info');
    d = await startTestDelivery('delivery redis down', {
      redisUrl: (url) => proxy.proxiedUrl(url),
      log: sink.log,
    });
    receiver = await webhookReceiver();
    receiver.respond({ status: 204 });
  });

  afterAll(async () => {
    await d?.close();
    await receiver?.close();
    await proxy?.close();
  });

  const linesSaying = (msg: string) => sink.lines.filter((l) => l.msg === msg);

  it('keeps delivering without a limit, logs the outage once and its end once, and counts the rest', async () => {
    await d.createEndpoint({ url: receiver.url('/no-redis'), rateLimitPerSecond: 1 });
    proxy.cut();
    for (let i = 0; i < 20; i++) await d.publish('redis.x', { i });
    // a working limit of 1/s would need 19 s for these twenty
    await eventually(() => expect(receiver.requestsTo('/no-redis')).toHaveLength(20), {
      timeoutMs: 5_000,
    });
    expect(linesSaying('rate limiter cannot reach redis: sending without limit')).toHaveLength(1);
    expect(await metric(d, 'reten_rate_limit_fail_open')).toBe(1);
    expect(
      await metric(d, 'reten_delivery_errors_total', { kind: 'rate_limiter' }),
    ).toBeGreaterThanOrEqual(20);

    proxy.restore();
    await d.createEndpoint({ url: receiver.url('/redis-back'), rateLimitPerSecond: 1000 });
    await eventually(
      async () => {
        await d.publish('redis.x', {});
        expect(linesSaying('rate limiter reaches redis again')).toHaveLength(1);
      },
      { timeoutMs: 15_000, intervalMs: 300 },
    );
    expect(await metric(d, 'reten_rate_limit_fail_open')).toBe(0);
    expect(linesSaying('rate limiter cannot reach redis: sending without limit')).toHaveLength(1);
  });
});
