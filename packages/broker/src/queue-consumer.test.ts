import amqplib from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Topology } from '@reten/contracts';
import { TcpProxy, createTestVhost, eventually, silentLogger, testServers } from '@reten/testing';
import type { TestVhost } from '@reten/testing';
import { BrokerConnection } from './connection';
import { QueueConsumer } from './queue-consumer';

function queueTopology(queue: string): Topology {
  return {
    exchanges: [],
    queues: [{ name: queue, durable: true, arguments: { 'x-queue-type': 'quorum' } }],
    bindings: [],
  };
}

describe('QueueConsumer against a real RabbitMQ', () => {
  let vhost: TestVhost;
  let model: ChannelModel;

  beforeAll(async () => {
    vhost = await createTestVhost('queue consumer');
    model = await amqplib.connect(vhost.url);
  });

  afterAll(async () => {
    await model?.close().catch(() => undefined);
    await vhost?.drop();
  });

  async function send(queue: string, ...bodies: string[]): Promise<void> {
    const channel = await model.createConfirmChannel();
    for (const b of bodies) channel.sendToQueue(queue, Buffer.from(b), { persistent: true });
    await channel.waitForConfirms();
    await channel.close();
  }

  async function depth(queue: string): Promise<number> {
    const channel = await model.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    return messageCount;
  }

  it('declares, consumes again after a reconnect, drains the handlers and gives back what it did not ack', async () => {
    const servers = await testServers();
    const target = new URL(servers.rabbitUrl);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5672));
    const queue = 'test.consumer.reconnect';
    const seen: string[] = [];
    const closed: Channel[] = [];
    let consuming: Channel | undefined;
    let release: (() => void) | undefined;
    const consumer = new QueueConsumer({
      queue,
      topology: queueTopology(queue),
      prefetch: 10,
      log: silentLogger(),
      onChannelClosed: (channel) => closed.push(channel),
      onMessage: (msg: ConsumeMessage, channel: Channel) => {
        const body = msg.content.toString();
        seen.push(body);
        consuming = channel;
        if (body === 'hold') {
          // acked only once released: drain must wait for it
          return new Promise<void>((resolve) => {
            release = () => {
              channel.ack(msg);
              resolve();
            };
          });
        }
        if (body !== 'keep') channel.ack(msg);
        return undefined;
      },
    });
    let attached = 0;
    consumer.on('consuming', () => (attached += 1));
    const connection = new BrokerConnection({
      url: proxy.proxiedUrl(vhost.url),
      log: silentLogger(),
      heartbeatSeconds: 5,
      connectionName: 'consumer-test',
      setup: (m) => consumer.attach(m),
    });
    try {
      expect(consumer.problem()).toBe('not consuming');
      await connection.start();
      await consumer.whenConsuming(10_000);
      expect(consumer.problem()).toBeUndefined();
      await send(queue, 'a');
      await eventually(() => expect(seen).toEqual(['a']));
      // the broker handles a channel's frames in order: once it answers this, it has the ack
      // of 'a' (cut before that, 'a' would rightly come again after the reconnect)
      await consuming!.checkQueue(queue);

      proxy.cut();
      await eventually(() => expect(consumer.consuming).toBe(false));
      expect(closed).toHaveLength(1);
      proxy.restore();
      await consumer.whenConsuming(20_000);
      expect(attached).toBe(2);

      await send(queue, 'hold', 'keep');
      await eventually(() => expect(seen).toEqual(['a', 'hold', 'keep']));
      let drained = false;
      const draining = consumer.drain(10_000).then(() => (drained = true));
      await send(queue, 'late');
      await eventually(() => expect(seen).toContain('late'));
      expect(drained).toBe(false);
      release?.();
      await draining;
      await consumer.close(2_000);
      // 'keep' was never acked: closing the channel gave it back
      await eventually(async () => expect(await depth(queue)).toBe(1));
      expect(consumer.consuming).toBe(false);
    } finally {
      await connection.stop();
      await proxy.close();
    }
  });

  it('after cancel, nothing more is delivered', async () => {
    const queue = 'test.consumer.cancel';
    const seen: string[] = [];
    const consumer = new QueueConsumer({
      queue,
      topology: queueTopology(queue),
      prefetch: 10,
      log: silentLogger(),
      onMessage: (msg, channel) => {
        seen.push(msg.content.toString());
        channel.ack(msg);
      },
    });
    await consumer.attach(model);
    await send(queue, 'before');
    await eventually(() => expect(seen).toEqual(['before']));
    await consumer.cancel(2_000);
    expect(consumer.consuming).toBe(false);
    await send(queue, 'after');
    // still ready in the queue: no consumer took it (a delivered one would have been acked)
    await eventually(async () => expect(await depth(queue)).toBe(1));
    expect(seen).toEqual(['before']);
    await consumer.close(2_000);
  });
});
