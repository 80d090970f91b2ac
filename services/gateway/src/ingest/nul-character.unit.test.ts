import { containsNulCharacter } from './nul-character';

describe('containsNulCharacter', () => {
  it.each([
    [{ s: 'a\u0000b' }, true],
    [{ 'k\u0000': 1 }, true],
    ['\u0000', true],
    [{ s: '\\\u0000' }, true],
    [{ s: 'C:\\u0000dir' }, false],
    [{ s: '\\\\u0000' }, false],
    [{ s: 'plain' }, false],
  ])('%j → %s', (value, expected) => {
    expect(containsNulCharacter(JSON.stringify(value))).toBe(expected);
  });
});
