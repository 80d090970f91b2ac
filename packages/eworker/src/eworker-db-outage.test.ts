import amqplib from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { z } from 'zod';
import { EVENTS_EXCHANGE } from '@reten/contracts';
import { TcpProxy, createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { defineEworker } from './define-eworker';
import type { EworkerService } from './eworker-service';
import { publishLikeRelay, startTestEworker } from './test-eworker';

const TYPE = 'test.db-outage';

let schema: TestSchema;
let vhost: TestVhost;
let proxy: TcpProxy;
let connection: ChannelModel;
let channel: Channel;
let service: EworkerService;

beforeAll(async () => {
  schema = await createTestSchema('eworker db outage');
  vhost = await createTestVhost('eworker db outage');
  const target = new URL(schema.databaseUrl);
  proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
  connection = await amqplib.connect(vhost.url);
  channel = await connection.createChannel();
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await schema.pool.query('CREATE TABLE seen (id bigint GENERATED ALWAYS AS IDENTITY, n int)');
  const definition = defineEworker({
    name: 'db-outage',
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
      // the eworker reaches PostgreSQL only through the proxy the test cuts
      DATABASE_URL: proxy.proxiedUrl(schema.databaseUrl),
      EWORKER_RETRY_BASE_MS: '50',
      EWORKER_RETRY_MAX_MS: '200',
      EWORKER_MAX_ATTEMPTS: '2',
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

describe('an eworker losing PostgreSQL', () => {
  it('waits and resumes in order, parking nothing: an outage is not a handler failure', async () => {
    publish(0);
    await eventually(async () => expect(await seen()).toEqual([0]));
    proxy.cut();
    for (let n = 1; n <= 100; n += 1) publish(n);
    await eventually(async () => {
      const metrics = await service.registry.metrics();
      expect(metrics).toMatch(/reten_eworker_infrastructure_errors_total\{[^}]*\} [1-9]/);
    });
    proxy.restore();
    await eventually(async () => expect(await seen()).toHaveLength(101), { timeoutMs: 20_000 });
    expect(await seen()).toEqual([...Array(101).keys()]);
    const failed = await schema.pool.query("SELECT 1 FROM eworker_marks WHERE status = 'failed'");
    expect(failed.rowCount).toBe(0);
  });

  it('reports a stalled PostgreSQL (no reset, no FIN) on /readyz and resumes in order after it, parking nothing', async () => {
    const before = (await seen()).length;
    proxy.stall();
    await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${service.port}/readyz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ checks: { postgres: { ok: false } } });
      },
      { timeoutMs: 10_000 },
    );
    for (let n = before; n < before + 100; n += 1) publish(n);
    proxy.resume();
    await eventually(async () => expect(await seen()).toHaveLength(before + 100), {
      timeoutMs: 20_000,
    });
    expect(await seen()).toEqual([...Array(before + 100).keys()]);
    await eventually(async () =>
      expect((await fetch(`http://127.0.0.1:${service.port}/readyz`)).status).toBe(200),
    );
    const failed = await schema.pool.query("SELECT 1 FROM eworker_marks WHERE status = 'failed'");
    expect(failed.rowCount).toBe(0);
  });
});
