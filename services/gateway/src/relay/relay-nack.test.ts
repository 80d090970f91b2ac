import amqplib from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { EVENTS_EXCHANGE } from '@reten/contracts';
import { eventually } from '@reten/testing';
import { startTestGateway } from '../test-fixture';
import type { TestGateway } from '../test-fixture';
import { api, eventIdOf } from '../test-api';

describe('relay when the broker refuses messages (a full queue with reject-publish)', () => {
  let gw: TestGateway;
  let connection: ChannelModel;
  let channel: Channel;

  beforeAll(async () => {
    gw = await startTestGateway('relay nack', { env: { RELAY_RETRY_DELAY_MS: '50' } });
    connection = await amqplib.connect(gw.vhost.url);
    channel = await connection.createChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    // like reten.delivery: at-least-once dead-lettering needs reject-publish, so a full queue nacks
    await channel.assertQueue('test.full', {
      durable: true,
      arguments: { 'x-max-length': 3, 'x-overflow': 'reject-publish' },
    });
    await channel.bindQueue('test.full', EVENTS_EXCHANGE, '#');
  });

  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await gw?.close();
  });

  async function unpublished(): Promise<number> {
    const res = await gw.schema.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    return res.rows[0]!.n;
  }

  it('keeps retrying nacked batches and publishes everything, in order, once the queue has room', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      sent.push(eventIdOf(await api(gw, 'POST', '/v1.0/event/nack.test', { i })));
    }
    // the queue holds 3: the batch cannot be confirmed, nothing counts as published
    await eventually(async () =>
      expect((await channel.checkQueue('test.full')).messageCount).toBe(3),
    );
    expect(await unpublished()).toBeGreaterThanOrEqual(9);

    // While the consumer frees room during a retry, the queue can refuse an earlier message of a
    // batch and take a later one: it sees that copy first. The batch is nacked and published
    // again, whole and in order, until every message of it is confirmed; the next batch only
    // after that. So the order of every event's last copy is the publish order.
    const lastCopies = new Map<string, number>();
    let copies = 0;
    await channel.consume(
      'test.full',
      (msg) => {
        if (!msg) return;
        const { event_id } = JSON.parse(msg.content.toString()) as { event_id: string };
        lastCopies.delete(event_id);
        lastCopies.set(event_id, (copies += 1));
      },
      { noAck: true },
    );
    await eventually(async () => expect(await unpublished()).toBe(0), { timeoutMs: 20_000 });
    await eventually(() => expect([...lastCopies.keys()]).toEqual(sent));
  });
});
