import { createHash, randomUUID } from 'node:crypto';

/** Characters of the previous token's digest a successor carries. */
const PREVIOUS_LENGTH = 12;

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, PREVIOUS_LENGTH);
}

/**
 * A new token for a delivery row whose token is `previous`. A message is published under it
 * before the row is updated to it, so the message can arrive (at another replica) while the
 * row still holds `previous`; the token names its predecessor so that such a message is told
 * apart from a stale one.
 */
export function successorToken(previous: string | null): string {
  return `${randomUUID()}.${digest(previous ?? '')}`;
}

/** Whether `token` was made by `successorToken(current)`: the row has not caught up yet. */
export function isSuccessorOf(token: string, current: string | null): boolean {
  const dot = token.lastIndexOf('.');
  return dot !== -1 && token.slice(dot + 1) === digest(current ?? '');
}
