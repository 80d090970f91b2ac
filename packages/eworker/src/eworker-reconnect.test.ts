import amqplib from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { z } from 'zod';
import { EVENTS_EXCHANGE } from '@reten/contracts';
import { TcpProxy, createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { defineEworker } from './define-eworker';
import type { EworkerService } from './eworker-service';
import { publishLikeRelay, startTestEworker } from './test-eworker';

const TYPE = 'test.reconnect';

let schema: TestSchema;
let vhost: TestVhost;
let proxy: TcpProxy;
let connection: ChannelModel;
let channel: Channel;
let service: EworkerService;

beforeAll(async () => {
  schema = await createTestSchema('eworker reconnect');
  vhost = await createTestVhost('eworker reconnect');
  const target = new URL(vhost.url);
  proxy = await TcpProxy.start(target.hostname, Number(target.port || 5672));
  connection = await amqplib.connect(vhost.url);
  channel = await connection.createChannel();
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await schema.pool.query('CREATE TABLE seen (id bigint GENERATED ALWAYS AS IDENTITY, n int)');
  const definition = defineEworker({
    name: 'reconnects',
    types: [TYPE],
    schema: z.object({ n: z.number().int() }),
    handle: async (event, ctx) => {
      await ctx.db.query('INSERT INTO seen (n) VALUES ($1)', [event.data.n]);
    },
  });
  service = await startTestEworker(
    definition,
    { databaseUrl: schema.databaseUrl, schema: schema.schema, rabbitUrl: vhost.url },
    {
      // the eworker reaches RabbitMQ only through the proxy the test cuts
      RABBITMQ_URL: proxy.proxiedUrl(vhost.url),
      RABBITMQ_HEARTBEAT_SECONDS: '2',
      DATABASE_POOL_SIZE: '3',
    },
  );
});

afterAll(async () => {
  await service?.stop();
  await proxy?.close();
  await connection?.close();
  await schema?.drop();
  await vhost?.drop();
});

function publish(n: number): void {
  publishLikeRelay(channel, TYPE, { n });
}

async function seen(): Promise<number[]> {
  const res = await schema.pool.query<{ n: number }>('SELECT n FROM seen ORDER BY id');
  return res.rows.map((r) => r.n);
}

async function readyz(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${service.port}/readyz`);
  return res.status;
}

describe('an eworker losing RabbitMQ', () => {
  it('reconnects, consumes again and keeps the order, processing nothing twice', async () => {
    for (let n = 0; n < 300; n += 1) publish(n);
    await eventually(async () => expect((await seen()).length).toBeGreaterThan(0));

    proxy.cut();
    await eventually(async () => expect(await readyz()).toBe(503));
    for (let n = 300; n < 600; n += 1) publish(n);
    proxy.restore();

    await eventually(async () => expect(await readyz()).toBe(200), { timeoutMs: 20_000 });
    await eventually(async () => expect(await seen()).toHaveLength(600), { timeoutMs: 20_000 });
    expect(await seen()).toEqual([...Array(600).keys()]);
  });

  it('reports a stalled connection (no reset, no FIN) on /readyz and consumes again in order after it', async () => {
    const before = (await seen()).length;
    proxy.stall();
    await eventually(async () => expect(await readyz()).toBe(503), { timeoutMs: 20_000 });
    for (let n = before; n < before + 300; n += 1) publish(n);
    proxy.resume();

    await eventually(async () => expect(await readyz()).toBe(200), { timeoutMs: 20_000 });
    await eventually(async () => expect(await seen()).toHaveLength(before + 300), {
      timeoutMs: 20_000,
    });
    expect(await seen()).toEqual([...Array(before + 300).keys()]);
  });
});
