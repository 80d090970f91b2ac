import { RetenError } from '@reten/contracts';

/** Opaque list cursor: base64url of the last id of the page. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** Decodes a cursor whose id must pass `isId`, or answers 422 naming `query.cursor`. */
export function decodeCursor(cursor: string, isId: (id: string) => boolean): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isId(id)) {
    throw new RetenError('validation_failed', 'Invalid cursor', [
      { path: 'query.cursor', message: 'must be a next_cursor value returned by this API' },
    ]);
  }
  return id;
}

/**
 * A page of a list read with one row more than `limit`: the rows to answer and the cursor of
 * the next page (null on the last page).
 */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  idOf: (row: T) => string,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(idOf(last)) : null };
}
