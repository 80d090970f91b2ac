import {
  EventTypeFilterSchema,
  EventTypeNameSchema,
  matchesTypeFilter,
  typeFilterToLike,
} from './event-type';

describe('matchesTypeFilter', () => {
  it.each([
    ['order.created', 'order.created', true],
    ['order.created', 'order.paid', false],
    ['order.created', 'order.*', true],
    ['order.', 'order.*', true],
    ['order', 'order.*', false],
    ['orderXcreated', 'order.*', false],
    ['order.created.v2', 'order.*', true],
    ['log:ClientLog', '*', true],
    ['log:ClientLog', 'log:*Log', true],
    ['log:ClientLogs', 'log:*Log', false],
    ['a.b.c', '*.b.*', true],
    ['order_x', 'order_*', true],
    ['orderXx', 'order_*', false],
  ])('%s against %s → %s', (type, filter, expected) => {
    expect(matchesTypeFilter(type, filter)).toBe(expected);
  });

  it('treats regular-expression characters in the filter literally', () => {
    expect(matchesTypeFilter('a+b', 'a+b')).toBe(true);
    expect(matchesTypeFilter('aab', 'a+*')).toBe(false);
    expect(matchesTypeFilter('a.b', 'a?b')).toBe(false);
  });
});

describe('typeFilterToLike', () => {
  it('turns * into % and escapes LIKE metacharacters', () => {
    expect(typeFilterToLike('order.*')).toBe('order.%');
    expect(typeFilterToLike('order_*')).toBe('order\\_%');
    expect(typeFilterToLike('*.created')).toBe('%.created');
    expect(typeFilterToLike('a%b\\c')).toBe('a\\%b\\\\c');
    expect(typeFilterToLike('exact')).toBe('exact');
  });
});

describe('event type names and filters', () => {
  it('accepts letters, digits, ".", ":", "_", "-" up to 128 characters', () => {
    for (const ok of ['log:ClientLog', 'order.created', 'a_b-c', 'x'.repeat(128)]) {
      expect(EventTypeNameSchema.safeParse(ok).success).toBe(true);
    }
    for (const bad of ['', 'x'.repeat(129), 'a b', 'a/b', 'order.*', 'é']) {
      expect(EventTypeNameSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('allows * only in filters', () => {
    expect(EventTypeFilterSchema.safeParse('order.*').success).toBe(true);
    expect(EventTypeFilterSchema.safeParse('order.%').success).toBe(false);
  });
});
