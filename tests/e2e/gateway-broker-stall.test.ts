import {
  EventTap,
  TcpProxy,
  createTestSchema,
  createTestVhost,
  eventually,
  testServers,
} from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { api, eventIdOf } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';

const DRAIN_MS = 3000;

/**
 * The gateway as a process behind a RabbitMQ connection that stalls (no reset, no FIN) past the
 * heartbeat while events keep coming: it must publish the backlog once the broker answers, and
 * SIGTERM must end it within its drain deadline even while the broker is stalled again.
 */
describe('gateway process with a stalled RabbitMQ (fault test)', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let proxy: TcpProxy;
  let tap: EventTap;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    schema = await createTestSchema('e2e broker stall');
    vhost = await createTestVhost('e2e broker stall');
    const rabbit = new URL((await testServers()).rabbitUrl);
    proxy = await TcpProxy.start(rabbit.hostname, Number(rabbit.port || 5672));
    tap = await EventTap.open(vhost.url);
  });

  afterAll(async () => {
    await gateway?.process.kill('SIGKILL');
    await tap?.close();
    await proxy?.close();
    await schema?.drop();
    await vhost?.drop();
  });

  it('publishes every accepted event after the stall, and exits on SIGTERM within its drain deadline while stalled', async () => {
    const apiKey = await createApiKey(schema);
    gateway = await startGatewayProcess(schema, vhost, {
      RABBITMQ_URL: proxy.proxiedUrl(vhost.url),
      RABBITMQ_HEARTBEAT_SECONDS: '1',
      RELAY_CONFIRM_TIMEOUT_MS: '1000',
      SHUTDOWN_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
    });
    const gw = { url: gateway.url, apiKey };
    const sent: string[] = [];
    const send = async () => {
      const res = await api(gw, 'POST', '/v1.0/event/e2e.stall', { i: sent.length });
      expect(res.status).toBe(202);
      sent.push(eventIdOf(res));
    };
    const published = () =>
      tap.uniqueMessages().map((m) => (m.body as { event_id: string }).event_id);

    for (let i = 0; i < 10; i += 1) await send();
    await eventually(() => expect(published()).toEqual(sent), { timeoutMs: 10_000 });

    proxy.stall();
    await eventually(
      async () => {
        await send();
        expect((await api(gw, 'GET', '/readyz')).status).toBe(503);
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    for (let i = 0; i < 50; i += 1) await send();
    proxy.resume();
    await eventually(() => expect(published()).toEqual(sent), { timeoutMs: 30_000 });
    await eventually(async () => expect((await api(gw, 'GET', '/readyz')).status).toBe(200), {
      timeoutMs: 10_000,
    });

    await send();
    proxy.stall();
    const started = Date.now();
    const code = await gateway.process.kill('SIGTERM');
    gateway = undefined;
    expect(code).toBe(0);
    // the margin covers process exit and timers firing late on a busy machine
    expect(Date.now() - started).toBeLessThan(DRAIN_MS + 2000);
  });
});
