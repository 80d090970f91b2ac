import { z } from 'zod';

/** The earliest instant Reten accepts: PostgreSQL has no year 0, and JS writes it as `0000`. */
export const MIN_TIMESTAMP = '0001-01-01T00:00:00Z';
/** The latest instant Reten accepts: RFC 3339 has four-digit years. */
export const MAX_TIMESTAMP = '9999-12-31T23:59:59.999Z';

const MIN_MS = Date.parse(MIN_TIMESTAMP);
const MAX_MS = Date.parse(MAX_TIMESTAMP);

/**
 * Whether an RFC 3339 timestamp names an instant between MIN_TIMESTAMP and MAX_TIMESTAMP (in
 * UTC, so `0001-01-01T00:00:00+01:00`, which is in year 0, is out), which PostgreSQL stores and
 * JavaScript writes back as an RFC 3339 string.
 */
export function isStorableTimestamp(value: string): boolean {
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS;
}

/** An RFC 3339 date-time with an offset, within the range PostgreSQL and JSON can both hold. */
export const TimestampSchema = z.iso
  .datetime({ offset: true })
  .refine(isStorableTimestamp, `must be between ${MIN_TIMESTAMP} and ${MAX_TIMESTAMP}`);
