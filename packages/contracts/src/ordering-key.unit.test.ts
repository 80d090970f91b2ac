import { CreateEventRequestSchema } from './api';
import { EventEnvelopeSchema } from './envelope';
import { ORDERING_KEY_MAX_LENGTH, OrderingKeySchema, isOrderingKey } from './ordering-key';

describe('ordering keys', () => {
  it.each(['a', 'ord_456', '~!#$%&()*+,-./:;<=>?@[]^_`{|}', 'x'.repeat(ORDERING_KEY_MAX_LENGTH)])(
    'accepts %s',
    (key) => {
      expect(isOrderingKey(key)).toBe(true);
      expect(OrderingKeySchema.safeParse(key).success).toBe(true);
    },
  );

  it.each(['', ' ', 'a b', 'tab\there', 'é', 'line\n', '\u007f', 'x'.repeat(129)])(
    'refuses %j',
    (key) => {
      expect(isOrderingKey(key)).toBe(false);
      expect(OrderingKeySchema.safeParse(key).success).toBe(false);
    },
  );

  it('is optional in a create request and an envelope, so older envelopes still parse', () => {
    const envelope = {
      event_id: 'evt_01J8Z3V6ZV4X3M2N9Q8R7S6T5V',
      event_type: 'order.created',
      timestamp: '2024-03-19T12:00:00Z',
      revision: 1,
      data: {},
    };
    expect(EventEnvelopeSchema.parse(envelope)).toEqual(envelope);
    expect(EventEnvelopeSchema.parse({ ...envelope, ordering_key: 'k' }).ordering_key).toBe('k');
    expect(EventEnvelopeSchema.safeParse({ ...envelope, ordering_key: 'a b' }).success).toBe(false);
    expect(
      CreateEventRequestSchema.safeParse({ event_type: 'a.b', data: {}, ordering_key: 'k' })
        .success,
    ).toBe(true);
  });
});
