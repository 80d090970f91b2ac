import amqplib from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { trace } from '@opentelemetry/api';
import { z } from 'zod';
import { EVENTS_EXCHANGE } from '@reten/contracts';
import type { TraceInfo } from '@reten/observability';
import { createTestSchema, createTestVhost, eventually } from '@reten/testing';
import type { TestSchema, TestVhost } from '@reten/testing';
import { defineEworker } from './define-eworker';
import type { EworkerService } from './eworker-service';
import { publishLikeRelay, startTestEworker } from './test-eworker';

const TYPE = 'test.traced';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

interface Seen {
  n: number;
  attempt: number;
  trace: TraceInfo;
  activeSpanId: string | undefined;
  activeAfterAwait: string | undefined;
}

let schema: TestSchema;
let vhost: TestVhost;
let connection: ChannelModel;
let channel: Channel;
let service: EworkerService | undefined;
const seen: Seen[] = [];

beforeAll(async () => {
  schema = await createTestSchema('eworker trace');
  vhost = await createTestVhost('eworker trace');
  connection = await amqplib.connect(vhost.url);
  channel = await connection.createChannel();
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  service = await startTestEworker(
    defineEworker({
      name: 'traced',
      types: [TYPE],
      schema: z.object({ n: z.number().int(), failFirst: z.boolean() }),
      handle: async (event, ctx) => {
        const activeSpanId = trace.getActiveSpan()?.spanContext().spanId;
        await ctx.db.query('SELECT 1');
        const activeAfterAwait = trace.getActiveSpan()?.spanContext().spanId;
        seen.push({
          n: event.data.n,
          attempt: ctx.attempt,
          trace: ctx.trace,
          activeSpanId,
          activeAfterAwait,
        });
        if (event.data.failFirst && ctx.attempt === 1) throw new Error('first try fails');
      },
    }),
    { databaseUrl: schema.databaseUrl, schema: schema.schema, rabbitUrl: vhost.url },
  );
});

afterAll(async () => {
  await service?.stop();
  await connection.close();
  await schema.drop();
  await vhost.drop();
});

describe('eworker trace context', () => {
  it('continues the trace of the message in an `eworker handle` span the handler sees as ctx.trace and as the active span', async () => {
    publishLikeRelay(
      channel,
      TYPE,
      { n: 1, failFirst: false },
      { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`, tracestate: 'acme=7' },
    );
    await eventually(() => expect(seen.filter((s) => s.n === 1)).toHaveLength(1));
    const [handled] = seen.filter((s) => s.n === 1);
    expect(handled?.trace.traceId).toBe(TRACE_ID);
    expect(handled?.trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(handled?.trace.spanId).not.toBe(PARENT_SPAN_ID);
    expect(handled?.trace.traceparent).toBe(`00-${TRACE_ID}-${handled?.trace.spanId}-01`);
    expect(handled?.trace.tracestate).toBe('acme=7');
    expect(handled?.activeSpanId).toBe(handled?.trace.spanId);
    expect(handled?.activeAfterAwait).toBe(handled?.trace.spanId);
  });

  it('gives every retry of a failing handler its own span in the same trace', async () => {
    publishLikeRelay(
      channel,
      TYPE,
      { n: 2, failFirst: true },
      { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    );
    await eventually(() => expect(seen.filter((s) => s.n === 2)).toHaveLength(2));
    const [first, second] = seen.filter((s) => s.n === 2);
    expect([first?.attempt, second?.attempt]).toEqual([1, 2]);
    expect(second?.trace.traceId).toBe(TRACE_ID);
    expect(second?.trace.spanId).not.toBe(first?.trace.spanId);
  });

  it('starts a new trace for a message without trace context', async () => {
    publishLikeRelay(channel, TYPE, { n: 3, failFirst: false });
    await eventually(() => expect(seen.filter((s) => s.n === 3)).toHaveLength(1));
    const [handled] = seen.filter((s) => s.n === 3);
    expect(handled?.trace.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(handled?.trace.traceId).not.toBe(TRACE_ID);
    expect(handled?.activeSpanId).toBe(handled?.trace.spanId);
  });
});
