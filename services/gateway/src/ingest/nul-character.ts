import { RetenError } from '@reten/contracts';

/**
 * U+0000 in JSON text from JSON.stringify: `\u0000` whose backslash is not itself escaped
 * (an even run of backslashes before it). `"C:\\u0000"` is a backslash and text, not U+0000.
 */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/** Whether JSON text (as JSON.stringify writes it) holds the character U+0000. */
export function containsNulCharacter(json: string): boolean {
  return json.includes('\\u0000') && ESCAPED_NUL.test(json);
}

/** PostgreSQL's jsonb cannot hold U+0000: refuse it with 422 naming `path`. */
export function assertNoNulCharacter(json: string, path: string): void {
  if (containsNulCharacter(json)) {
    throw new RetenError('validation_failed', 'Strings in the event data must not contain U+0000', [
      { path, message: 'contains the character U+0000' },
    ]);
  }
}
