import amqplib from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { createTestVhost, eventually } from '@reten/testing';
import type { TestVhost } from '@reten/testing';
import { COALESCED, coalesceWrites } from './coalesce-writes';

let vhost: TestVhost;

beforeAll(async () => {
  vhost = await createTestVhost('coalesce writes');
});

afterAll(async () => {
  await vhost.drop();
});

/** Counts the system-call-level writes (`_write` / `_writev`) of a connection's socket. */
function countWrites(model: ChannelModel): { calls: number } {
  const socket = (model.connection as unknown as { stream: Record<string, unknown> }).stream;
  const counter = { calls: 0 };
  for (const name of ['_write', '_writev'] as const) {
    const original = socket[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    socket[name] = (...args: unknown[]) => {
      counter.calls += 1;
      return original.apply(socket, args);
    };
  }
  return counter;
}

/** Publishes `n` messages in one synchronous loop; resolves with the bodies as consumed. */
async function publishAndConsume(
  model: ChannelModel,
  n: number,
): Promise<{ calls: number; got: string[] }> {
  const channel = await model.createConfirmChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  const got: string[] = [];
  await channel.consume(
    queue,
    (msg) => {
      if (msg) got.push(msg.content.toString());
    },
    { noAck: true },
  );
  const writes = countWrites(model);
  for (let i = 0; i < n; i += 1) channel.sendToQueue(queue, Buffer.from(`m${i}`));
  await channel.waitForConfirms();
  const calls = writes.calls;
  await eventually(() => expect(got).toHaveLength(n));
  await channel.close();
  return { calls, got };
}

describe('coalesceWrites', () => {
  it('sends a loop of publishes in a few socket writes instead of one each, same messages in the same order', async () => {
    const plain = await amqplib.connect(vhost.url);
    const coalesced = await amqplib.connect(vhost.url);
    try {
      expect(coalesceWrites(coalesced)).toBe(true);
      expect(coalesceWrites(coalesced)).toBe(true); // a second call does not wrap twice
      const expected = Array.from({ length: 200 }, (_, i) => `m${i}`);
      const before = await publishAndConsume(plain, 200);
      const after = await publishAndConsume(coalesced, 200);
      expect(before.got).toEqual(expected);
      expect(after.got).toEqual(expected);
      expect(before.calls).toBeGreaterThanOrEqual(100);
      expect(after.calls).toBeLessThanOrEqual(5);
    } finally {
      await plain.close();
      await coalesced.close();
    }
  });

  it('leaves a connection whose internals it does not know alone', () => {
    const unknown = { connection: { stream: {} } };
    expect(coalesceWrites(unknown)).toBe(false);
    expect((unknown.connection as Record<symbol, unknown>)[COALESCED]).toBeUndefined();
  });
});
