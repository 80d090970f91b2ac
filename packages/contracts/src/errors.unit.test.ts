import { ERROR_STATUS, ErrorEnvelopeSchema, RetenError, isRetenError } from './errors';

describe('RetenError', () => {
  it('answers with the status of its code and the envelope without empty details', () => {
    const err = new RetenError('not_found', 'No event with id evt_1');
    expect(err.status).toBe(404);
    expect(err.toEnvelope()).toEqual({
      error: { code: 'not_found', message: 'No event with id evt_1', status: 404 },
    });
    expect(new RetenError('validation_failed', 'x', []).toEnvelope().error).not.toHaveProperty(
      'details',
    );
  });

  it('carries details in the envelope, which the envelope schema accepts', () => {
    const envelope = new RetenError('validation_failed', 'Invalid body.event_type', [
      { path: 'body.event_type', message: 'must be an event type' },
    ]).toEnvelope();
    expect(envelope.error.details).toEqual([
      { path: 'body.event_type', message: 'must be an event type' },
    ]);
    expect(ErrorEnvelopeSchema.parse(envelope)).toEqual(envelope);
  });

  it('keeps its cause and accepts a status override', () => {
    const cause = new Error('root');
    const err = new RetenError('service_unavailable', 'down', undefined, { cause, status: 502 });
    expect(err.cause).toBe(cause);
    expect(err.status).toBe(502);
  });

  it('gives every 503 a Retry-After of 1 s unless it names its own, and other statuses none', () => {
    expect(new RetenError('service_unavailable', 'down').retryAfterSeconds).toBe(1);
    expect(new RetenError('commit_outcome_unknown', 'maybe').retryAfterSeconds).toBe(1);
    expect(
      new RetenError('service_unavailable', 'down', undefined, { retryAfterSeconds: 30 })
        .retryAfterSeconds,
    ).toBe(30);
    expect(new RetenError('internal_error', 'bug').retryAfterSeconds).toBeUndefined();
    expect(new RetenError('not_found', 'x').retryAfterSeconds).toBeUndefined();
  });

  it('is recognised by a brand check, also across copies of the package', () => {
    expect(isRetenError(new RetenError('conflict', 'x'))).toBe(true);
    expect(isRetenError(new Error('x'))).toBe(false);
    expect(isRetenError(null)).toBe(false);
    expect(isRetenError({ [Symbol.for('reten.error')]: true })).toBe(true);
  });

  it('maps every code to a 4xx or 5xx status', () => {
    for (const status of Object.values(ERROR_STATUS)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });
});
