import { eventEnvelopeJson } from './envelope';
import type { EnvelopeSource } from './envelope';

function row(dataJson: string): EnvelopeSource {
  return {
    eventId: 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V',
    revision: 2,
    eventType: 'order.created',
    occurredAt: new Date('2024-03-19T12:00:00Z'),
    dataJson,
  };
}

describe('eventEnvelopeJson', () => {
  it('writes the envelope byte for byte, in the documented key order', () => {
    expect(eventEnvelopeJson(row('{"order_id": "ord_456", "status": "pending"}'))).toBe(
      '{"event_id":"evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V","event_type":"order.created",' +
        '"timestamp":"2024-03-19T12:00:00.000Z","revision":2,' +
        '"data":{"order_id": "ord_456", "status": "pending"}}',
    );
  });

  it('embeds the stored data text as it is, without reparsing it', () => {
    // a reparse would turn 1.0 into 1 and 12345678901234567890 into 12345678901234567000
    const data = '{"big": 12345678901234567890, "f": 1.0, "s": "\\u00e9"}';
    const json = eventEnvelopeJson(row(data));
    expect(json.endsWith(`"data":${data}}`)).toBe(true);
    expect(JSON.parse(json)).toMatchObject({ revision: 2, data: { f: 1, s: 'é' } });
  });

  it('escapes the type and id as JSON strings', () => {
    const r = { ...row('null'), eventType: 'a"b' };
    expect(JSON.parse(eventEnvelopeJson(r))).toMatchObject({ event_type: 'a"b', data: null });
  });
});

describe('eventEnvelopeJson with an ordering key', () => {
  it('writes ordering_key before data when the event has one, and nothing when it has none', () => {
    const keyed = eventEnvelopeJson({ ...row('{}'), orderingKey: 'ord_"456' });
    expect(keyed).toBe(
      '{"event_id":"evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V","event_type":"order.created",' +
        '"timestamp":"2024-03-19T12:00:00.000Z","revision":2,"ordering_key":"ord_\\"456","data":{}}',
    );
    expect(eventEnvelopeJson({ ...row('{}'), orderingKey: null })).toBe(
      eventEnvelopeJson(row('{}')),
    );
  });
});
