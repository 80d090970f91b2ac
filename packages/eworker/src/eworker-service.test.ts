import amqplib from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { z } from 'zod';
import {
  EVENTS_EXCHANGE,
  eworkerParkedQueueName,
  eworkerQueueName,
  eworkerTopology,
} from '@reten/contracts';
import { declareTopology } from '@reten/broker';
import { createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { defineEworker } from './define-eworker';
import type { EworkerDefinition } from './define-eworker';
import type { EworkerService } from './eworker-service';
import { PARKED_HEADERS } from './parker';
import { publishLikeRelay, startTestEworker } from './test-eworker';

const TYPE = 'test.counter';

let schema: TestSchema;
let vhost: TestVhost;
let connection: ChannelModel;
let channel: Channel;
let seq = 0;

beforeAll(async () => {
  schema = await createTestSchema('eworker service');
  vhost = await createTestVhost('eworker service');
  connection = await amqplib.connect(vhost.url);
  channel = await connection.createChannel();
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await schema.pool.query(
    'CREATE TABLE handled (id bigint GENERATED ALWAYS AS IDENTITY, eworker text, n int, event_id text)',
  );
});

afterAll(async () => {
  await connection.close();
  await schema.drop();
  await vhost.drop();
});

function publish(
  n: number,
  options: { eventId?: string; revision?: number; body?: Buffer } = {},
): string {
  seq += 1;
  return publishLikeRelay(channel, TYPE, { n }, { ...options, seq });
}

function counterEworker(
  name: string,
  fail: (n: number, attempt: number) => boolean = () => false,
): EworkerDefinition {
  return defineEworker({
    name,
    types: [TYPE],
    schema: z.object({ n: z.number().int() }),
    handle: async (event, ctx) => {
      if (fail(event.data.n, ctx.attempt)) throw new Error(`refusing ${event.data.n}`);
      await ctx.db.query('INSERT INTO handled (eworker, n, event_id) VALUES ($1, $2, $3)', [
        name,
        event.data.n,
        event.id,
      ]);
    },
  });
}

function startEworker(
  definition: EworkerDefinition,
  env: Record<string, string> = {},
): Promise<EworkerService> {
  return startTestEworker(
    definition,
    { databaseUrl: schema.databaseUrl, schema: schema.schema, rabbitUrl: vhost.url },
    env,
  );
}

async function handled(name: string): Promise<number[]> {
  const res = await schema.pool.query<{ n: number }>(
    'SELECT n FROM handled WHERE eworker = $1 ORDER BY id',
    [name],
  );
  return res.rows.map((r) => r.n);
}

interface MarkRow {
  status: string;
  attempts: number;
  last_error: string | null;
  tenant_id: string;
}

async function marks(name: string): Promise<MarkRow[]> {
  const res = await schema.pool.query<MarkRow>(
    'SELECT status, attempts, last_error, tenant_id FROM eworker_marks WHERE eworker = $1 ORDER BY event_id',
    [name],
  );
  return res.rows;
}

describe('EworkerService', () => {
  it('registers its types and JSON Schema (draft 2020-12) at start', async () => {
    const service = await startEworker(counterEworker('registers'));
    try {
      const res = await schema.pool.query<{ json_schema: Record<string, unknown> }>(
        "SELECT json_schema FROM event_type_schemas WHERE eworker = 'registers' AND event_type = $1",
        [TYPE],
      );
      expect(res.rows[0]?.json_schema).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        required: ['n'],
      });
    } finally {
      await service.stop();
    }
  });

  it('handles 2,000 events in exactly the order they were published, with prefetch > 1', async () => {
    const service = await startEworker(counterEworker('ordered'), { EWORKER_PREFETCH: '300' });
    try {
      for (let n = 0; n < 2000; n += 1) publish(n);
      await eventually(async () => expect(await handled('ordered')).toHaveLength(2000), {
        timeoutMs: 30_000,
      });
      expect(await handled('ordered')).toEqual([...Array(2000).keys()]);
      const m = await marks('ordered');
      expect(m.every((r) => r.status === 'processed' && r.tenant_id === 'acme')).toBe(true);
      await eventually(async () => {
        const metrics = await service.registry.metrics();
        expect(metrics).toMatch(
          /reten_eworker_events_total\{[^}]*eworker="ordered"[^}]*outcome="processed"[^}]*\} 2000/,
        );
        expect(metrics).toMatch(/reten_eworker_buffered_messages\{[^}]*\} 0/);
      });
    } finally {
      await service.stop();
    }
  });

  it('handles a redelivered revision once, and a new revision of the same event again', async () => {
    const service = await startEworker(counterEworker('dedupe'));
    try {
      const id = publish(1);
      publish(1, { eventId: id });
      publish(2);
      publish(1, { eventId: id });
      publish(3, { eventId: id, revision: 2 });
      await eventually(async () => expect(await handled('dedupe')).toEqual([1, 2, 3]));
      const count = await schema.pool.query(
        "SELECT count(*)::int AS n FROM eworker_marks WHERE eworker = 'dedupe'",
      );
      expect(count.rows[0].n).toBe(3);
      await eventually(async () => {
        const q = await channel.checkQueue(eworkerQueueName('dedupe'));
        expect(q.messageCount).toBe(0);
      });
      expect(await handled('dedupe')).toEqual([1, 2, 3]);
    } finally {
      await service.stop();
    }
  });

  it('handles a revision once when copies of it arrive in the same batch', async () => {
    await declareTopology(channel, eworkerTopology('same-batch', [TYPE]));
    // queued before the eworker starts: the copies are delivered together
    publish(9);
    const id = publish(10);
    publish(10, { eventId: id });
    publish(11);
    publish(10, { eventId: id });
    await eventually(async () => {
      const q = await channel.checkQueue(eworkerQueueName('same-batch'));
      expect(q.messageCount).toBe(5);
    });
    const service = await startEworker(counterEworker('same-batch'));
    try {
      await eventually(async () => expect(await handled('same-batch')).toEqual([9, 10, 11]));
      // the lag of each revision handled, once: the copies skipped are not processed again
      await eventually(async () =>
        expect(await service.registry.metrics()).toMatch(
          /reten_eworker_process_lag_seconds_count\{[^}]*eworker="same-batch"[^}]*\} 3$/m,
        ),
      );
      await eventually(async () => {
        const q = await channel.checkQueue(eworkerQueueName('same-batch'));
        expect(q.messageCount).toBe(0);
      });
    } finally {
      await service.stop();
    }
  });

  it('retries a throwing handler in place, then parks the event and moves on in order', async () => {
    const service = await startEworker(
      counterEworker('parks', (n, attempt) => n === 3 || (n === 5 && attempt < 2)),
    );
    try {
      for (let n = 1; n <= 7; n += 1) publish(n);
      await eventually(async () => expect(await handled('parks')).toEqual([1, 2, 4, 5, 6, 7]));
      const failed = await schema.pool.query(
        "SELECT status, attempts, parked_count, last_error FROM eworker_marks WHERE eworker = 'parks' AND status = 'failed'",
      );
      expect(failed.rows).toEqual([
        { status: 'failed', attempts: 3, parked_count: 1, last_error: 'Error: refusing 3' },
      ]);
      const retried = await schema.pool.query(
        "SELECT attempts FROM eworker_marks m JOIN handled h ON h.event_id = m.event_id WHERE m.eworker = 'parks' AND h.n = 5",
      );
      expect(retried.rows[0].attempts).toBe(2);
      const parked = await channel.get(eworkerParkedQueueName('parks'), { noAck: true });
      expect(parked).not.toBe(false);
      if (parked) {
        expect(JSON.parse(parked.content.toString())).toMatchObject({ data: { n: 3 } });
        expect(parked.properties.headers?.[PARKED_HEADERS.error]).toBe('Error: refusing 3');
      }
    } finally {
      await service.stop();
    }
  });

  it('parks an unparseable message at once without blocking the type', async () => {
    const service = await startEworker(counterEworker('poison'));
    try {
      publish(1);
      publish(0, { body: Buffer.from('not json{') });
      publish(0, { body: Buffer.from(JSON.stringify({ hello: 'world' })) });
      publishLikeRelay(channel, TYPE, { n: 'three' });
      publish(2);
      await eventually(async () => expect(await handled('poison')).toEqual([1, 2]));
      await eventually(async () => {
        const q = await channel.checkQueue(eworkerParkedQueueName('poison'));
        expect(q.messageCount).toBe(3);
      });
      const failed = await schema.pool.query<{ attempts: number; last_error: string }>(
        "SELECT attempts, last_error FROM eworker_marks WHERE eworker = 'poison' AND status = 'failed' ORDER BY event_id",
      );
      expect(failed.rows.map((r) => [r.attempts, r.last_error])).toEqual([
        [0, 'message body is not JSON'],
        [0, 'message body is not an event envelope'],
        [0, expect.stringContaining('data.n') as unknown],
      ]);
    } finally {
      await service.stop();
    }
  });
});
