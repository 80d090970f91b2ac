import { EventIdSchema, RetenError } from '@reten/contracts';

/** Opaque cursor: base64url of the last event id of the page. */
export function encodeCursor(eventId: string): string {
  return Buffer.from(eventId, 'utf8').toString('base64url');
}

/** Decodes a cursor or answers 422 naming `query.cursor`. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!EventIdSchema.safeParse(id).success) {
    throw new RetenError('validation_failed', 'Invalid cursor', [
      { path: 'query.cursor', message: 'must be a next_cursor value returned by this API' },
    ]);
  }
  return id;
}
