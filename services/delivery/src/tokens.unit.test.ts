import { isSuccessorOf, successorToken } from './tokens';

describe('delivery tokens', () => {
  it('tells a successor of the row’s token from a stale or unrelated one', () => {
    const next = successorToken('initial');
    expect(next).not.toBe(successorToken('initial'));
    expect(isSuccessorOf(next, 'initial')).toBe(true);
    expect(isSuccessorOf(next, next)).toBe(false);
    expect(isSuccessorOf(successorToken(next), 'initial')).toBe(false);
    expect(isSuccessorOf('3f1c2b7e-0000-4000-8000-000000000000', 'initial')).toBe(false);
    expect(isSuccessorOf(successorToken(null), null)).toBe(true);
  });
});
