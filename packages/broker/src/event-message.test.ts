import amqplib from 'amqplib';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { EVENTS_EXCHANGE, EWORKER_REPLAY_HEADER, MESSAGE_HEADERS } from '@reten/contracts';
import { createTestVhost } from '@reten/testing';
import type { TestVhost } from '@reten/testing';
import type { OutgoingMessage } from './confirm-publisher';
import {
  decodeEventMessage,
  decodeTargetedMessage,
  encodeEventMessage,
  encodeEventReplay,
  encodeTargetedMessage,
  messageIdentity,
  readEventHeaders,
  receivedAtMs,
} from './event-message';
import type { EventMessage } from './event-message';

const ID = 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V';
const QUEUE = 'test.event-message';

const event: EventMessage = {
  tenantId: 'acme',
  eventId: ID,
  eventType: 'order.created',
  revision: 2,
  occurredAt: new Date('2024-03-19T12:00:00Z'),
  receivedAt: new Date('2024-03-19T12:00:01Z'),
  seq: '7',
  streamPosition: '41',
  dataJson: '{"big": 12345678901234567890}',
};

describe('the event message, encoded and decoded through a real RabbitMQ', () => {
  let vhost: TestVhost;
  let model: ChannelModel;
  let channel: ConfirmChannel;

  beforeAll(async () => {
    vhost = await createTestVhost('event message');
    model = await amqplib.connect(vhost.url);
    channel = await model.createConfirmChannel();
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await channel.assertQueue(QUEUE, { durable: false });
    await channel.bindQueue(QUEUE, EVENTS_EXCHANGE, '#');
  });

  afterAll(async () => {
    await model?.close().catch(() => undefined);
    await vhost?.drop();
  });

  /** Publishes `m` as given (a replay or a targeted message goes by the default exchange). */
  async function roundTrip(m: OutgoingMessage): Promise<Message> {
    const routingKey = m.exchange === '' ? QUEUE : m.routingKey;
    channel.publish(m.exchange, routingKey, m.content, m.options);
    await channel.waitForConfirms();
    const got = await channel.get(QUEUE, { noAck: true });
    if (!got) throw new Error('nothing in the queue');
    return got;
  }

  it('carries the envelope bytes, the identity and every header of an event revision', async () => {
    const sent = encodeEventMessage(event);
    expect(sent.routingKey).toBe('order.created');
    const msg = await roundTrip(sent);
    expect(msg.content.toString('utf8')).toBe(
      `{"event_id":"${ID}","event_type":"order.created","timestamp":"2024-03-19T12:00:00.000Z",` +
        '"revision":2,"data":{"big": 12345678901234567890}}',
    );
    expect(messageIdentity(msg)).toEqual({
      eventId: ID,
      revision: 2,
      tenantId: 'acme',
      type: 'order.created',
    });
    expect(readEventHeaders(msg)).toEqual({
      tenantId: 'acme',
      seq: '7',
      streamPosition: '41',
      eventType: 'order.created',
      replay: false,
      firstPublish: false,
    });
    const decoded = decodeEventMessage(msg);
    expect(decoded.ok && decoded.envelope).toMatchObject({ event_id: ID, revision: 2 });
    expect(decodeTargetedMessage(msg)).toBeUndefined();
  });

  it('carries when the revision was accepted to the millisecond, and falls back to the timestamp property', async () => {
    const receivedAt = new Date('2024-03-19T12:00:01.234Z');
    const msg = await roundTrip(encodeEventMessage({ ...event, receivedAt }));
    expect(receivedAtMs(msg)).toBe(receivedAt.getTime());
    // a relay older than the header: whole seconds from the AMQP timestamp
    const old = encodeEventMessage({ ...event, receivedAt });
    const headers = { ...(old.options.headers as Record<string, unknown>) };
    delete headers[MESSAGE_HEADERS.receivedAt];
    const legacy = await roundTrip({ ...old, options: { ...old.options, headers } });
    expect(receivedAtMs(legacy)).toBe(Date.parse('2024-03-19T12:00:01Z'));
  });

  it('says when the relay publishes the revision for the first time, and a replay never does', async () => {
    const msg = await roundTrip(encodeEventMessage(event, true));
    expect(msg.properties.headers?.[MESSAGE_HEADERS.firstPublish]).toBe(1);
    expect(readEventHeaders(msg).firstPublish).toBe(true);
    const again = await roundTrip(encodeEventMessage(event));
    expect(again.properties.headers?.[MESSAGE_HEADERS.firstPublish]).toBeUndefined();
    expect(readEventHeaders(again).firstPublish).toBe(false);
  });

  it('leaves the stream position out until the relay has given one', async () => {
    const { streamPosition: _, ...unpositioned } = event;
    const msg = await roundTrip(encodeEventMessage(unpositioned));
    expect(msg.properties.headers?.[MESSAGE_HEADERS.streamPosition]).toBeUndefined();
    expect(readEventHeaders(msg).streamPosition).toBeUndefined();
  });

  it('carries the ordering key in the envelope and a header, and the trace context in the W3C headers', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const msg = await roundTrip(
      encodeEventMessage({ ...event, orderingKey: 'ord_456', traceparent, tracestate: 'k=v' }),
    );
    expect(msg.content.toString('utf8')).toBe(
      `{"event_id":"${ID}","event_type":"order.created","timestamp":"2024-03-19T12:00:00.000Z",` +
        '"revision":2,"ordering_key":"ord_456","data":{"big": 12345678901234567890}}',
    );
    expect(msg.properties.headers).toMatchObject({
      'x-reten-ordering-key': 'ord_456',
      traceparent,
      tracestate: 'k=v',
    });
    const decoded = decodeEventMessage(msg);
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.envelope.ordering_key).toBe('ord_456');
    expect(decoded.headers).toMatchObject({
      orderingKey: 'ord_456',
      traceparent,
      tracestate: 'k=v',
    });
  });

  it('decodes a message published before ordering keys and trace context existed', async () => {
    // the exact bytes and headers an older relay published
    const msg = await roundTrip({
      exchange: EVENTS_EXCHANGE,
      routingKey: 'order.created',
      content: Buffer.from(
        `{"event_id":"${ID}","event_type":"order.created","timestamp":"2024-03-19T12:00:00.000Z",` +
          '"revision":1,"data":{}}',
      ),
      options: {
        messageId: `${ID}:1`,
        type: 'order.created',
        headers: { [MESSAGE_HEADERS.tenant]: 'acme' },
      },
    });
    const decoded = decodeEventMessage(msg);
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.envelope).not.toHaveProperty('ordering_key');
    expect(decoded.headers.orderingKey).toBeUndefined();
    expect(decoded.headers.traceparent).toBeUndefined();
    expect(decoded.headers.tracestate).toBeUndefined();
    const keyless = await roundTrip(encodeEventMessage(event));
    expect(keyless.properties.headers).not.toHaveProperty('x-reten-ordering-key');
    expect(keyless.properties.headers).not.toHaveProperty('traceparent');
  });

  it('a replay goes straight to one queue, keeps the type and is marked', async () => {
    const sent = encodeEventReplay(event, QUEUE);
    expect([sent.exchange, sent.routingKey]).toEqual(['', QUEUE]);
    const msg = await roundTrip(sent);
    expect(msg.properties.headers?.[EWORKER_REPLAY_HEADER]).toBe(1);
    expect(readEventHeaders(msg)).toMatchObject({ eventType: 'order.created', replay: true });
    expect(messageIdentity(msg)?.type).toBe('order.created');
  });

  it('a targeted message keeps its delivery, token, due time, tenant and body', async () => {
    const body = Buffer.from('{"x":1}');
    const targeted = { deliveryId: 'dlv_1', tenantId: 'acme', token: 't-3', dueAt: 1234, body };
    const msg = await roundTrip(encodeTargetedMessage(targeted, QUEUE));
    expect(decodeTargetedMessage(msg)).toEqual(targeted);
    // a retry carries when its event was accepted, for the delivery lag
    const retry = { ...targeted, receivedAtMs: 1_710_849_601_234 };
    const again = await roundTrip(encodeTargetedMessage(retry, QUEUE));
    expect(decodeTargetedMessage(again)).toEqual(retry);
  });

  it.each([
    [{}, '{}', 'message without tenant header'],
    [{ [MESSAGE_HEADERS.tenant]: 'acme' }, 'not json', 'body is not JSON'],
    [{ [MESSAGE_HEADERS.tenant]: 'acme' }, '{"event_id":1}', 'body is not an event envelope'],
  ])('refuses a message with headers %j and body %s', async (headers, body, error) => {
    const msg = await roundTrip({
      exchange: EVENTS_EXCHANGE,
      routingKey: 'junk.x',
      content: Buffer.from(body),
      options: { headers },
    });
    expect(decodeEventMessage(msg)).toEqual({ ok: false, error });
    expect(messageIdentity(msg)).toBeUndefined();
  });
});
