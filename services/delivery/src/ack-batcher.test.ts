import { EventEmitter } from 'node:events';
import amqplib from 'amqplib';
import type { Channel, ConsumeMessage } from 'amqplib';
import { createTestVhost, eventually } from '@reten/testing';
import type { TestVhost } from '@reten/testing';
import { AckBatcher } from './ack-batcher';

/** A channel that records its acks: [deliveryTag, multiple]. */
function fakeChannel() {
  const channel = new EventEmitter() as EventEmitter & {
    acks: Array<[number, boolean]>;
    ack: (msg: ConsumeMessage, allUpTo?: boolean) => void;
  };
  channel.acks = [];
  channel.ack = (msg, allUpTo = false) => {
    channel.acks.push([msg.fields.deliveryTag, allUpTo]);
  };
  return channel;
}

const message = (deliveryTag: number) => ({ fields: { deliveryTag } }) as unknown as ConsumeMessage;
const turn = () => new Promise((r) => setImmediate(r));

describe('AckBatcher', () => {
  it('acks the finished run at the head of the window with one multiple ack per turn', async () => {
    const acks = new AckBatcher();
    const ch = fakeChannel();
    const msgs = [1, 2, 3, 4].map(message);
    for (const m of msgs) acks.received(ch as unknown as Channel, m);
    for (const m of msgs.slice(0, 3)) acks.ack(ch as unknown as Channel, m);
    expect(ch.acks).toEqual([]); // in the next turn
    await turn();
    expect(ch.acks).toEqual([[3, true]]);
    acks.ack(ch as unknown as Channel, msgs[3]!);
    await turn();
    expect(ch.acks).toEqual([
      [3, true],
      [4, false],
    ]);
    expect(acks.unacked).toBe(0);
  });

  it('acks messages finished behind an unfinished one singly, and never covers that one', async () => {
    const acks = new AckBatcher();
    const ch = fakeChannel();
    const msgs = [1, 2, 3, 4, 5].map(message);
    for (const m of msgs) acks.received(ch as unknown as Channel, m);
    // 2 never finishes (left unacked for redelivery): 1 alone, then 3, 4, 5 one by one
    for (const i of [4, 0, 2, 3]) acks.ack(ch as unknown as Channel, msgs[i]!);
    await turn();
    expect(ch.acks).toEqual([
      [1, false],
      [3, false],
      [4, false],
      [5, false],
    ]);
    expect(acks.unacked).toBe(1);
  });

  it('forgets a message settled otherwise (nack), so the run behind it acks as one', async () => {
    const acks = new AckBatcher();
    const ch = fakeChannel();
    const msgs = [1, 2, 3].map(message);
    for (const m of msgs) acks.received(ch as unknown as Channel, m);
    acks.forget(ch as unknown as Channel, msgs[0]!);
    acks.ack(ch as unknown as Channel, msgs[1]!);
    acks.ack(ch as unknown as Channel, msgs[2]!);
    await turn();
    expect(ch.acks).toEqual([[3, true]]);
  });

  it('flush() acks at once; a closed channel is forgotten', async () => {
    const acks = new AckBatcher();
    const ch = fakeChannel();
    const [a, b] = [1, 2].map(message);
    acks.received(ch as unknown as Channel, a!);
    acks.received(ch as unknown as Channel, b!);
    acks.ack(ch as unknown as Channel, a!);
    acks.flush();
    expect(ch.acks).toEqual([[1, false]]);
    ch.emit('close');
    expect(acks.unacked).toBe(0);
    acks.ack(ch as unknown as Channel, b!); // not registered any more: acked on its own
    expect(ch.acks).toEqual([
      [1, false],
      [2, false],
    ]);
    await turn();
  });

  describe('against RabbitMQ', () => {
    let vhost: TestVhost;

    beforeAll(async () => {
      vhost = await createTestVhost('ack batcher');
    });

    afterAll(async () => {
      await vhost?.drop();
    });

    it('acks exactly the finished messages: the unfinished ones come back after the channel closes', async () => {
      const conn = await amqplib.connect(vhost.url);
      try {
        const pub = await conn.createConfirmChannel();
        // A classic queue: it applies a channel's acks before it handles the channel's close.
        // A quorum queue settles acks as low-priority Raft commands, so a close right after
        // the acks can requeue acked messages (at-least-once, which the delivery service
        // tolerates), and this test asserts exactly which messages come back.
        await pub.assertQueue('acks', { durable: true, arguments: { 'x-queue-type': 'classic' } });
        for (let i = 0; i < 200; i++) pub.sendToQueue('acks', Buffer.from(String(i)));
        await pub.waitForConfirms();

        // finish in a scrambled order, over many turns; every seventh message never finishes
        const acks = new AckBatcher();
        const ch = await conn.createChannel();
        await ch.prefetch(200);
        const left = new Set<string>();
        let seen = 0;
        await ch.consume('acks', (msg) => {
          if (!msg) return;
          acks.received(ch, msg);
          const i = Number(msg.content.toString());
          seen += 1;
          if (i % 7 === 3) {
            left.add(String(i));
            return;
          }
          setTimeout(() => acks.ack(ch, msg), (i * 37) % 23);
        });
        await eventually(() => expect(seen).toBe(200));
        await eventually(() => expect(acks.unacked).toBe(left.size));
        await ch.close();

        // what comes back is exactly what was left
        const again = await conn.createChannel();
        const back = new Set<string>();
        await again.consume('acks', (msg) => {
          if (!msg) return;
          back.add(msg.content.toString());
          again.ack(msg);
        });
        await eventually(() => expect(back.size).toBe(left.size));
        expect([...back].sort()).toEqual([...left].sort());
        const { messageCount } = await again.checkQueue('acks');
        expect(messageCount).toBe(0);
      } finally {
        await conn.close();
      }
    });
  });
});
