import { NetworkError } from './exit-codes';

/**
 * Turns what `fetch` throws into a `NetworkError` that says which URL and why: a timeout
 * (`AbortSignal.timeout`) or the socket error code undici puts in `cause` (ECONNREFUSED, …).
 */
export function networkErrorOf(err: unknown, url: string, timeoutMs: number): NetworkError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new NetworkError(`no answer from ${url} within ${timeoutMs} ms`);
  }
  const cause =
    err instanceof Error
      ? (err.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  const reason =
    (typeof cause?.code === 'string' ? cause.code : undefined) ??
    (typeof cause?.message === 'string' ? cause.message : undefined) ??
    (err instanceof Error ? err.message : String(err));
  return new NetworkError(`cannot reach ${url}: ${reason}`);
}
