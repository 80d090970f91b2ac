import { RetenError } from '@reten/contracts';
import { isNotConnectedError } from './event-store';

/**
 * SQLSTATEs of a statement the server ended for lack of time: `statement_timeout`
 * (`query_canceled`) and `lock_timeout` (`lock_not_available`).
 */
const TIMED_OUT = new Set(['57014', '55P03']);

/**
 * SQLSTATEs of a server that cannot serve now: shutting down or starting (`57P01`–`57P03`),
 * out of connections, memory or disk (class 53), a connection failure (class 08), a read-only
 * server after a failover (`25006`).
 */
function isServerUnavailableCode(code: string): boolean {
  return (
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '25006' ||
    code.startsWith('53') ||
    code.startsWith('08')
  );
}

/** Socket errors of a connection to the database that could not be made or broke. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What node-postgres and pg-pool say when a connection ends, cannot be had, or stops answering. */
const CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect|Cannot use a pool after calling end)/;
/** node-postgres's own bound on a query (`query_timeout`): the server stopped answering. */
const CLIENT_TIMEOUT = /^Query read timeout$/;

/** Whether the failure is the database timing out, being unreachable, or neither. */
export function databaseTroubleOf(err: unknown): 'timeout' | 'unavailable' | undefined {
  // the failure itself, or what it wraps (a NotConnectedError's cause, an Error's `cause`)
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (isNotConnectedError(e)) return 'unavailable';
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (TIMED_OUT.has(code)) return 'timeout';
      if (SOCKET_CODES.has(code)) return 'unavailable';
      if (/^[0-9A-Z]{5}$/.test(code) && isServerUnavailableCode(code)) return 'unavailable';
    }
    const message = e instanceof Error ? e.message : undefined;
    if (message !== undefined && CLIENT_TIMEOUT.test(message)) return 'timeout';
    if (message !== undefined && CONNECTION_LOST.test(message)) return 'unavailable';
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The API's answer to a request that failed on the database through no fault of its own or of
 * Reten's code: 503 `service_unavailable` with `Retry-After`, the client retries. Undefined for
 * any other failure (an unexpected one stays a 500 `internal_error`).
 */
export function databaseUnavailableError(err: unknown): RetenError | undefined {
  const trouble = databaseTroubleOf(err);
  if (trouble === undefined) return undefined;
  return new RetenError(
    'service_unavailable',
    trouble === 'timeout'
      ? 'The database did not answer in time; retry'
      : 'The database cannot be reached right now; retry',
    undefined,
    { cause: err },
  );
}
