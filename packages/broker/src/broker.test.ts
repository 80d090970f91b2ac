import amqplib from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { EVENTS_EXCHANGE } from '@reten/contracts';
import type { Topology } from '@reten/contracts';
import {
  EventTap,
  TcpProxy,
  createTestVhost,
  eventually,
  silentLogger,
  testServers,
} from '@reten/testing';
import type { TestVhost } from '@reten/testing';
import { ConfirmPublisher, PublishError } from './confirm-publisher';
import type { OutgoingMessage } from './confirm-publisher';
import { BrokerConnection } from './connection';
import { declareTopology } from './topology';

const topology: Topology = {
  exchanges: [{ name: EVENTS_EXCHANGE, type: 'topic', durable: true }],
  queues: [
    {
      name: 'test.quorum',
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': 5,
        'x-single-active-consumer': true,
      },
    },
  ],
  bindings: [{ exchange: EVENTS_EXCHANGE, queue: 'test.quorum', routingKey: 'order.*' }],
};

function message(n: number, routingKey = 'order.created'): OutgoingMessage {
  return {
    exchange: EVENTS_EXCHANGE,
    routingKey,
    content: Buffer.from(JSON.stringify({ event_id: `e${n}`, revision: 1 })),
    options: { persistent: true },
  };
}

describe('packages/broker against a real RabbitMQ', () => {
  let vhost: TestVhost;
  let model: ChannelModel;

  beforeAll(async () => {
    vhost = await createTestVhost('broker package');
    model = await amqplib.connect(vhost.url);
  });

  afterAll(async () => {
    await model?.close().catch(() => undefined);
    await vhost?.drop();
  });

  it('declareTopology twice is idempotent and binds as declared', async () => {
    const channel = await model.createChannel();
    await declareTopology(channel, topology);
    await declareTopology(channel, topology);
    const q = await channel.checkQueue('test.quorum');
    expect(q.queue).toBe('test.quorum');
    channel.publish(EVENTS_EXCHANGE, 'order.paid', Buffer.from('{}'));
    channel.publish(EVENTS_EXCHANGE, 'user.created', Buffer.from('{}'));
    await eventually(async () => {
      expect((await channel.checkQueue('test.quorum')).messageCount).toBe(1);
    });
    await channel.close();
  });

  it('a queue redeclared with other arguments is refused (406), so arguments live in contracts only', async () => {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    await expect(
      channel.assertQueue('test.quorum', {
        durable: true,
        arguments: { 'x-queue-type': 'classic' },
      }),
    ).rejects.toThrow(/PRECONDITION_FAILED/);
  });

  it('reconnects after the connection is cut, reruns setup, and publishes again', async () => {
    const servers = await testServers();
    const target = new URL(servers.rabbitUrl);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5672));
    const publisher = new ConfirmPublisher(silentLogger());
    let setups = 0;
    const connection = new BrokerConnection({
      url: proxy.proxiedUrl(vhost.url),
      log: silentLogger(),
      heartbeatSeconds: 5,
      connectionName: 'broker-test',
      setup: async (m) => {
        const channel = await publisher.attach(m);
        await declareTopology(channel, topology);
        setups += 1;
      },
    });
    const tap = await EventTap.open(vhost.url, 'reconnect.#', 'test.reconnect-tap');
    try {
      await connection.start();
      await connection.waitForConnect(10_000);
      await publisher.publishBatch([message(1, 'reconnect.a')], 5000);

      proxy.cut();
      await eventually(() => expect(connection.connected).toBe(false));
      await expect(publisher.publishBatch([message(2, 'reconnect.a')], 1000)).rejects.toThrow(
        PublishError,
      );

      proxy.restore();
      await eventually(() => expect(connection.connected).toBe(true), { timeoutMs: 20_000 });
      expect(setups).toBe(2);
      await publisher.publishBatch([message(3, 'reconnect.a')], 5000);
      await eventually(() =>
        expect(tap.messages.map((m) => (m.body as { event_id: string }).event_id)).toEqual([
          'e1',
          'e3',
        ]),
      );
    } finally {
      await tap.close();
      await connection.stop();
      await proxy.close();
    }
  });

  it('after a batch is nacked (queue full, reject-publish), the publisher publishes again on the same connection', async () => {
    const channel = await model.createChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await channel.assertQueue('test.full', {
      durable: true,
      arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
    });
    await channel.bindQueue('test.full', EVENTS_EXCHANGE, 'full.#');
    const publisher = new ConfirmPublisher(silentLogger());
    await publisher.attach(model);

    await publisher.publishBatch([message(1, 'full.a')], 5000);
    await expect(publisher.publishBatch([message(2, 'full.a')], 5000)).rejects.toThrow(
      PublishError,
    );
    // the connection is fine: whoever drives the publisher must be told it can try again
    expect(publisher.ready).toBe(true);
    await channel.purgeQueue('test.full');
    await publisher.publishBatch([message(3, 'full.a')], 5000);
    const got = await channel.get('test.full', { noAck: true });
    expect(got && JSON.parse(got.content.toString())).toEqual({ event_id: 'e3', revision: 1 });
    await channel.close();
  });
});
