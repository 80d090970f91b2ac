import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';

/**
 * Hostile inputs found by probing the API from outside, kept as the fuzzer's vocabulary: each
 * once answered a 500 or was stored as something other than what was sent.
 */

/** Path segments as sent on the wire (already percent-encoded, some deliberately wrongly). */
export const hostilePathSegments: Arbitrary<string> = fc.constantFrom(
  '%FF',
  '%',
  '%E0%A4%A',
  '%00',
  '%ED%A0%80', // a UTF-16 surrogate written as UTF-8 bytes: not UTF-8
  '%C0%AF', // an overlong `/`
  '..',
  '%2F',
  '%20',
  'a'.repeat(3000),
  'reten.test',
  'x%0Ay',
);

/** Query values as sent on the wire. */
export const hostileQueryValues: Arbitrary<string> = fc.constantFrom(
  '%FF',
  '%00',
  '',
  '-1',
  '0',
  '1e400',
  '9999999999999999999999',
  'abc',
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00%2B01:00',
  '10000-01-01T00:00:00Z',
  '%ED%A0%80',
  'a'.repeat(3000),
  'order.*',
);

/** Header values fetch can send (no CR, LF, NUL, nothing above U+00FF). */
export const hostileHeaderValues: Arbitrary<string> = fc.constantFrom(
  '',
  ' ',
  'x'.repeat(300),
  '\u00e9t\u00e9',
  '"',
  '*',
  'W/"1"',
  '"-1"',
  '"99999999999"',
  '\t',
);

/** JSON values that are valid JSON but wrong for most fields. */
export const hostileJsonValues: Arbitrary<unknown> = fc.constantFrom(
  null,
  [],
  {},
  '',
  0,
  -1,
  true,
  'a\u0000b',
  'lone \ud800 high',
  '\udc00 lone low',
  'x'.repeat(5000),
  2 ** 53 + 2,
  1.7976931348623157e308,
  '0000-01-01T00:00:00Z',
  '%FF',
  'reten.test',
  JSON.parse('{"__proto__":{"admin":true}}') as unknown,
  { '\u0000': 1 },
);

/** `[[…]]` nested `depth` levels, around and far beyond the documented limit. */
export const deepNesting: Arbitrary<string> = fc
  .constantFrom(99, 100, 101, 4000, 100_000)
  .map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`);

/** JSON text whose numbers a double cannot hold. */
export const hugeNumbers: Arbitrary<string> = fc.constantFrom(
  '1e400',
  '-1e400',
  '1e-400',
  '123456789012345678901234567890',
  '-9007199254740993',
);

/** Raw bodies (text or bytes) that are not JSON, not UTF-8, or not what any route expects. */
export const hostileRawBodies: Arbitrary<string | Buffer> = fc.constantFrom<string | Buffer>(
  '',
  '{',
  'null',
  '"string"',
  '{"a":1}garbage',
  '\ufeff{}',
  'a=1&b=2',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  Buffer.from([0xc0, 0x80]),
  '{"a":"\\u0000"}',
  '{"\\ud800":1}',
  '["\\udc00\\ud800"]',
);

/** What a body may be declared as. */
export const contentTypes: Arbitrary<string | undefined> = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/merge-patch+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'multipart/form-data; boundary=x',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** `Content-Encoding` of a body: `valid-gzip` compresses it, the others send it as it is. */
export const contentEncodings: Arbitrary<string | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom('valid-gzip', 'gzip', 'deflate', 'br', 'compress', 'x') },
);
