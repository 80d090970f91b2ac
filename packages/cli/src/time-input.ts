import { UsageError } from './exit-codes';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time given on the command line: an ISO 8601 date-time (`2026-11-25T12:00:00Z`) or a
 * duration back from now (`30s`, `15m`, `2h`, `7d`). Returns an ISO string for the API.
 */
export function parseTime(value: string, option: string, now = new Date()): string {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  if (relative) {
    const amount = Number(relative[1]);
    const unit = UNIT_MS[relative[2] ?? 's'] ?? 1000;
    return new Date(now.getTime() - amount * unit).toISOString();
  }
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const date = new Date(value);
  if (!iso.test(value.trim()) || Number.isNaN(date.getTime())) {
    throw new UsageError(
      `${option} must be an ISO 8601 time (2026-11-25T12:00:00Z) or a duration ago (30s, 15m, 2h, 7d), got ${JSON.stringify(value)}`,
    );
  }
  return date.toISOString();
}
