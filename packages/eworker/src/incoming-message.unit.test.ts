import type { ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import { EWORKER_REPLAY_HEADER, MESSAGE_HEADERS } from '@reten/contracts';
import { parseMessage } from './incoming-message';

const ID = 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V';
const schema = z.object({ n: z.number().int() });

function message(
  body: unknown,
  options: { messageId?: string; headers?: Record<string, unknown>; raw?: string } = {},
): ConsumeMessage {
  return {
    content: Buffer.from(options.raw ?? JSON.stringify(body)),
    fields: { routingKey: 'test.type', deliveryTag: 1, redelivered: false, exchange: 'x' },
    properties: {
      messageId: options.messageId ?? `${ID}:2`,
      headers: options.headers ?? { [MESSAGE_HEADERS.tenant]: 'acme', [MESSAGE_HEADERS.seq]: 42 },
    },
  } as unknown as ConsumeMessage;
}

const envelope = {
  event_id: ID,
  event_type: 'test.type',
  timestamp: '2026-11-25T10:00:00.000Z',
  revision: 2,
  data: { n: 7 },
};

describe('parseMessage', () => {
  it('turns a relay message into the event a handler gets', () => {
    expect(parseMessage(message(envelope), schema)).toEqual({
      ok: true,
      replay: false,
      event: {
        id: ID,
        type: 'test.type',
        revision: 2,
        tenantId: 'acme',
        timestamp: new Date('2026-11-25T10:00:00.000Z'),
        seq: '42',
        data: { n: 7 },
      },
      trace: { traceparent: undefined, tracestate: undefined },
    });
  });

  it('reads the W3C trace context headers the event was accepted under', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const headers = {
      [MESSAGE_HEADERS.tenant]: 'acme',
      [MESSAGE_HEADERS.traceparent]: traceparent,
      [MESSAGE_HEADERS.tracestate]: 'acme=1',
    };
    expect(parseMessage(message(envelope, { headers }), schema)).toMatchObject({
      trace: { traceparent, tracestate: 'acme=1' },
    });
  });

  it('recognises a replay by its header', () => {
    const headers = { [MESSAGE_HEADERS.tenant]: 'acme', [EWORKER_REPLAY_HEADER]: 1 };
    expect(parseMessage(message(envelope, { headers }), schema)).toMatchObject({ replay: true });
  });

  it('fails without a tenant or a messageId, keeping no identity', () => {
    expect(parseMessage(message(envelope, { headers: {} }), schema)).toEqual({
      ok: false,
      error: 'message has no valid messageId <event_id>:<revision> or tenant',
      identity: undefined,
    });
  });

  it('fails on a body that is not JSON or not an envelope, keeping the identity to mark it', () => {
    const identity = { eventId: ID, revision: 2, tenantId: 'acme', type: 'test.type' };
    expect(parseMessage(message(null, { raw: '{nope' }), schema)).toEqual({
      ok: false,
      error: 'message body is not JSON',
      identity,
    });
    expect(parseMessage(message({ hello: 1 }), schema)).toMatchObject({
      ok: false,
      error: 'message body is not an event envelope',
    });
  });

  it('fails when the messageId names another revision than the envelope', () => {
    expect(parseMessage(message(envelope, { messageId: `${ID}:1` }), schema)).toMatchObject({
      ok: false,
      error: 'messageId does not match the envelope',
    });
  });

  it('names the failing data path when the data does not match the schema', () => {
    const result = parseMessage(message({ ...envelope, data: { n: 'x' } }), schema);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(
      /^event data does not match the eworker schema: data\.n: /,
    );
  });
});
