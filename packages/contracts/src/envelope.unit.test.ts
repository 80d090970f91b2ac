import { EventEnvelopeSchema, EventIdSchema } from './envelope';

describe('event ids and the envelope', () => {
  it('accepts evt_ + a ULID, and the id used as the documented example', () => {
    expect(EventIdSchema.safeParse('evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V').success).toBe(true);
    const example = (EventIdSchema.meta() as { example?: unknown } | undefined)?.example;
    expect(EventIdSchema.safeParse(example).success).toBe(true);
  });

  it.each([
    '01J8Z3V6ZV4X3M2N9Q8R7S6T5V',
    'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5U',
    'evt_01j8z3v6zv4x3m2n9q8r7s6t5v',
  ])('refuses %s', (id) => {
    expect(EventIdSchema.safeParse(id).success).toBe(false);
  });

  it('parses the envelope shown in ARCHITECTURE.md', () => {
    const envelope = {
      event_id: 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V',
      event_type: 'order.created',
      timestamp: '2024-03-19T12:00:00Z',
      revision: 1,
      data: { order_id: 'ord_456', status: 'pending' },
    };
    expect(EventEnvelopeSchema.parse(envelope)).toEqual(envelope);
  });
});
