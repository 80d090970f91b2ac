import { isRetenError } from '@reten/contracts';
import { databaseTroubleOf, databaseUnavailableError } from './database-errors';
import { NotConnectedError } from './event-store';

/** An error as node-postgres builds it from the server's answer (a DatabaseError with a SQLSTATE). */
function serverError(code: string, message = 'server said no'): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

describe('databaseTroubleOf', () => {
  it('reads statement and lock timeouts, and the client giving up on a silent server, as a timeout', () => {
    expect(
      databaseTroubleOf(serverError('57014', 'canceling statement due to statement timeout')),
    ).toBe('timeout');
    expect(databaseTroubleOf(serverError('55P03', 'canceling statement due to lock timeout'))).toBe(
      'timeout',
    );
    expect(databaseTroubleOf(new Error('Query read timeout'))).toBe('timeout');
  });

  it('reads a lost or refused connection and a server that cannot serve now as unavailable', () => {
    for (const code of ['57P01', '57P02', '57P03', '53300', '53100', '08006', '08001', '25006']) {
      expect(databaseTroubleOf(serverError(code))).toBe('unavailable');
    }
    expect(databaseTroubleOf(new Error('Connection terminated unexpectedly'))).toBe('unavailable');
    expect(databaseTroubleOf(new Error('Connection terminated due to connection timeout'))).toBe(
      'unavailable',
    );
    expect(databaseTroubleOf(new Error('timeout exceeded when trying to connect'))).toBe(
      'unavailable',
    );
    expect(
      databaseTroubleOf(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('unavailable');
    expect(databaseTroubleOf(new NotConnectedError(new Error('pool closed')))).toBe('unavailable');
    // a wrapped cause is read too
    expect(databaseTroubleOf(new Error('lookup failed', { cause: serverError('57014') }))).toBe(
      'timeout',
    );
  });

  it('leaves everything else alone: constraint and data errors, bugs, non-errors', () => {
    expect(databaseTroubleOf(serverError('23505', 'duplicate key value'))).toBeUndefined();
    expect(databaseTroubleOf(serverError('22P02', 'invalid input syntax'))).toBeUndefined();
    expect(databaseTroubleOf(serverError('42P01', 'relation does not exist'))).toBeUndefined();
    expect(databaseTroubleOf(serverError('40001', 'could not serialize access'))).toBeUndefined();
    expect(
      databaseTroubleOf(new TypeError("Cannot read properties of undefined (reading 'id')")),
    ).toBeUndefined();
    expect(databaseTroubleOf('Connection terminated')).toBeUndefined();
    expect(databaseTroubleOf(undefined)).toBeUndefined();
  });
});

describe('databaseUnavailableError', () => {
  it('answers 503 service_unavailable with Retry-After and a message saying which, keeping the cause', () => {
    const cause = serverError('57014');
    const timedOut = databaseUnavailableError(cause);
    expect(isRetenError(timedOut)).toBe(true);
    expect(timedOut?.toEnvelope()).toEqual({
      error: {
        code: 'service_unavailable',
        message: 'The database did not answer in time; retry',
        status: 503,
      },
    });
    expect(timedOut?.retryAfterSeconds).toBe(1);
    expect(timedOut?.cause).toBe(cause);
    expect(databaseUnavailableError(new Error('Connection terminated unexpectedly'))?.message).toBe(
      'The database cannot be reached right now; retry',
    );
    expect(databaseUnavailableError(new Error('a bug'))).toBeUndefined();
  });
});
