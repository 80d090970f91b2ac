import { inspectJson } from './json-inspect';

describe('inspectJson', () => {
  it('accepts ordinary JSON, escaped backslashes before u0000, paired surrogates and doubles', () => {
    for (const text of [
      '{"a":[1,2,{"b":"c"}],"d":null}',
      '"C:\\\\u0000dir"',
      '"\\ud83d\\ude00"',
      '[5e-324, 1.7976931348623157e308, -9007199254740991, 0.1, 0, -0, 0e400]',
      `${'['.repeat(100)}${']'.repeat(100)}`,
    ]) {
      expect(inspectJson(text, 100)).toBeUndefined();
    }
  });

  it('names the path of the first value that cannot be stored as sent', () => {
    expect(inspectJson('{"a":{"b":[0,1e400]}}', 100)).toEqual({
      path: 'body.a.b.1',
      message: expect.stringContaining('range of a double'),
    });
    expect(inspectJson('{"x":1,"y.z":[1e-400]}', 100)?.path).toBe('body.y.z.0');
    expect(inspectJson('[123456789012345678901234567890]', 100)?.message).toContain('integer');
    expect(inspectJson('{"k":"a\\u0000"}', 100)).toEqual({
      path: 'body.k',
      message: 'contains the character U+0000',
    });
    expect(inspectJson('{"o":{"\\ud800":1}}', 100)).toEqual({
      path: 'body.o',
      message: 'has a key that contains an unpaired UTF-16 surrogate',
    });
    for (const lone of ['"\\ud800"', '"\\udc00"', '"\\ud800x\\udc00"', '"\\ud800\\ud800\\udc00"']) {
      expect(inspectJson(lone, 100)?.message).toBe('contains an unpaired UTF-16 surrogate');
    }
  });

  it('refuses nesting deeper than the limit without recursion', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(inspectJson(deep, 100)).toEqual({
      path: 'body',
      message: 'is nested deeper than 100 levels of arrays and objects',
    });
    expect(inspectJson(`${'{"a":'.repeat(101)}1${'}'.repeat(101)}`, 100)?.path).toBe('body');
  });
});
