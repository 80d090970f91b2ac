import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  decide,
  parseRetryAfter,
  withJitter,
} from './retry-policy';
import type { AttemptResult } from './retry-policy';

const failure = (statusCode: number | null, retryAfterMs: number | null = null): AttemptResult => ({
  startedAt: new Date(),
  latencyMs: 5,
  succeeded: false,
  statusCode,
  phase: statusCode === null ? 'connect' : 'status',
  error: 'x',
  responseExcerpt: null,
  retryAfterMs,
});
const options = { scheduleMs: [0, 5_000, 30_000], jitterPercent: 0, retryAfterMaxMs: 60_000 };

describe('retry policy', () => {
  it('has the schedule of ARCHITECTURE.md: immediately, 5 s, 30 s, 2 min … 12 h (10 attempts)', () => {
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([
      0, 5, 30, 120, 600, 1800, 3600, 10_800, 21_600, 43_200,
    ]);
  });

  it('succeeds on a 2xx result', () => {
    expect(decide({ ...failure(200), succeeded: true }, 1, options)).toEqual({ kind: 'succeeded' });
  });

  it('retries after the next delay of the schedule, then fails when it is exhausted', () => {
    expect(decide(failure(500), 1, options)).toEqual({ kind: 'retry', delayMs: 5_000 });
    expect(decide(failure(null), 2, options)).toEqual({ kind: 'retry', delayMs: 30_000 });
    expect(decide(failure(500), 3, options)).toEqual({ kind: 'failed' });
  });

  it('honours Retry-After on 429 and 503, capped, but never waits less than the schedule', () => {
    expect(decide(failure(429, 20_000), 1, options)).toEqual({ kind: 'retry', delayMs: 20_000 });
    expect(decide(failure(503, 600_000), 1, options)).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(decide(failure(503, 1_000), 1, options)).toEqual({ kind: 'retry', delayMs: 5_000 });
    expect(decide(failure(500, 20_000), 1, options)).toEqual({ kind: 'retry', delayMs: 5_000 });
  });

  it('disables the endpoint on 410 Gone', () => {
    expect(decide(failure(410), 1, options)).toMatchObject({ kind: 'disable' });
  });

  it('spreads delays by the jitter percent, never below zero', () => {
    expect(withJitter(10_000, 20, () => 0)).toBe(8_000);
    expect(withJitter(10_000, 20, () => 1)).toBe(12_000);
    expect(withJitter(0, 20, () => 1)).toBe(0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});
