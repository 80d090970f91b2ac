import { UsageError } from './exit-codes';
import { parseTime } from './time-input';

const now = new Date('2026-11-25T12:00:00.000Z');

describe('parseTime', () => {
  it('reads a duration back from now', () => {
    expect(parseTime('30s', '--since', now)).toBe('2026-11-25T11:59:30.000Z');
    expect(parseTime('15m', '--since', now)).toBe('2026-11-25T11:45:00.000Z');
    expect(parseTime('2h', '--since', now)).toBe('2026-11-25T10:00:00.000Z');
    expect(parseTime('7d', '--since', now)).toBe('2026-11-18T12:00:00.000Z');
  });

  it('reads an ISO 8601 date or date-time with a zone', () => {
    expect(parseTime('2026-11-20', '--since', now)).toBe('2026-11-20T00:00:00.000Z');
    expect(parseTime('2026-11-20T08:30:00+02:00', '--since', now)).toBe('2026-11-20T06:30:00.000Z');
  });

  it('refuses anything else as a usage error naming the option', () => {
    for (const bad of ['yesterday', '15', '2026-11-20T08:30', '2026-13-45T00:00:00Z']) {
      expect(() => parseTime(bad, '--until', now)).toThrow(UsageError);
      expect(() => parseTime(bad, '--until', now)).toThrow(/--until must be an ISO 8601 time/);
    }
  });
});
