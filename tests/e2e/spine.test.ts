import amqplib from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { EVENTS_EXCHANGE } from '@reten/contracts';
import { createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { api, eventIdOf } from '../../services/gateway/src/test-api';
import { createApiKey, startGatewayProcess } from './gateway-process';
import type { GatewayProcess } from './gateway-process';

interface Envelope {
  event_id: string;
  event_type: string;
  timestamp: string;
  revision: number;
  data: unknown;
}

describe('spine end to end: gateway process → PostgreSQL → reten.events', () => {
  let schema: TestSchema;
  let vhost: TestVhost;
  let gateway: GatewayProcess;
  let apiKey: string;
  let broker: ChannelModel;
  const received: { routingKey: string; envelope: Envelope }[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('e2e spine');
    vhost = await createTestVhost('e2e spine');
    apiKey = await createApiKey(schema);
    // a consumer's own queue bound to the exchange, declared before anything is published
    broker = await amqplib.connect(vhost.url);
    const channel = await broker.createChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await channel.assertQueue('e2e.orders', { durable: true });
    await channel.bindQueue('e2e.orders', EVENTS_EXCHANGE, 'order.#');
    await channel.consume('e2e.orders', (msg) => {
      if (!msg) return;
      received.push({
        routingKey: msg.fields.routingKey,
        envelope: JSON.parse(msg.content.toString()) as Envelope,
      });
      channel.ack(msg);
    });
    gateway = await startGatewayProcess(schema, vhost);
  });

  afterAll(async () => {
    const code = await gateway?.process.kill('SIGTERM');
    await broker?.close().catch(() => undefined);
    await schema?.drop();
    await vhost?.drop();
    expect(code).toBe(0);
  });

  it('events sent over HTTP are readable from the API and arrive, in order, in a queue bound to reten.events', async () => {
    const gw = { url: gateway.url, apiKey };
    const sent: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      sent.push(eventIdOf(await api(gw, 'POST', '/v1.0/event/order.created', { order: i })));
    }
    const rest = await api(gw, 'POST', '/api/v1/events', {
      event_type: 'order.paid',
      data: { order: 3 },
      timestamp: '2024-03-19T12:00:00Z',
    });
    sent.push(eventIdOf(rest));
    // not bound: must not reach the queue
    eventIdOf(await api(gw, 'POST', '/v1.0/event/user.created', { user: 1 }));

    const one = await api(gw, 'GET', `/api/v1/events/${sent[0]}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      event_type: 'order.created',
      revision: 1,
      data: { order: 0 },
    });
    const listed = await api(gw, 'GET', '/api/v1/events?type=order.*&limit=500');
    expect((listed.body as { data: Envelope[] }).data.map((e) => e.event_id)).toEqual(
      [...sent].reverse(),
    );

    await eventually(() => expect(received.map((r) => r.envelope.event_id)).toEqual(sent), {
      timeoutMs: 15_000,
    });
    expect(received[10]).toEqual({
      routingKey: 'order.paid',
      envelope: {
        event_id: sent[10],
        event_type: 'order.paid',
        timestamp: '2024-03-19T12:00:00.000Z',
        revision: 1,
        data: { order: 3 },
      },
    });
    const updated = await api(gw, 'PUT', `/api/v1/events/${sent[0]}`, { data: { order: 0, v: 2 } });
    expect(updated.status).toBe(200);
    await eventually(() =>
      expect(received.at(-1)?.envelope).toMatchObject({ event_id: sent[0], revision: 2 }),
    );
  });

  it('refuses requests without credentials with the error envelope', async () => {
    const res = await api({ url: gateway.url }, 'GET', '/api/v1/events');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'unauthorized', status: 401 } });
  });
});
