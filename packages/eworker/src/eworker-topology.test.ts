import amqplib from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { declareTopology } from '@reten/broker';
import {
  EWORKER_DELIVERY_LIMIT,
  eworkerParkedQueueName,
  eworkerQueueName,
  eworkerTopology,
} from '@reten/contracts';
import { createTestVhost, eventually } from '@reten/testing';
import type { TestVhost } from '@reten/testing';
import { publishLikeRelay } from './test-eworker';

let vhost: TestVhost;
let connection: ChannelModel;

beforeAll(async () => {
  vhost = await createTestVhost('eworker topology');
  connection = await amqplib.connect(vhost.url);
});

afterAll(async () => {
  await connection?.close();
  await vhost?.drop();
});

describe('eworkerTopology on a real broker', () => {
  it('declares the queues twice without a conflict (every reconnect redeclares them)', async () => {
    const channel = await connection.createChannel();
    await declareTopology(channel, eworkerTopology('twice', ['a.b', 'c:d']));
    await declareTopology(channel, eworkerTopology('twice', ['a.b', 'c:d']));
    const q = await channel.checkQueue(eworkerQueueName('twice'));
    expect(q.messageCount).toBe(0);
    await channel.close();
  });

  it('moves a message that exceeded the delivery limit to the parked queue instead of dropping it', async () => {
    const channel = await connection.createChannel();
    await declareTopology(channel, eworkerTopology('crashy', ['crash.type']));
    publishLikeRelay(channel, 'crash.type', { n: 1 });
    // each requeue stands for a consumer that died holding the message
    let deliveries = 0;
    await channel.consume(eworkerQueueName('crashy'), (msg) => {
      if (!msg) return;
      deliveries += 1;
      channel.nack(msg, false, true);
    });
    await eventually(async () => {
      const check = await connection.createChannel();
      const parked = await check.checkQueue(eworkerParkedQueueName('crashy'));
      await check.close();
      expect(parked.messageCount).toBe(1);
    });
    expect(deliveries).toBeGreaterThan(EWORKER_DELIVERY_LIMIT);
    await channel.close();
  });
});
