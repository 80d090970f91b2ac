/**
 * THE retry policy of webhook deliveries, as data (as undici's retry handler keeps its
 * lists): which outcomes are retried, which disable the endpoint, which honour Retry-After.
 */

/** Default delays before attempts 1…10 (ARCHITECTURE.md): immediately, 5 s … 12 h, then failed. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  0, 5, 30, 120, 600, 1800, 3600, 10_800, 21_600, 43_200,
];

/** Statuses whose `Retry-After` header sets the next delay (capped by config). */
export const RETRY_AFTER_STATUSES: readonly number[] = [429, 503];

/** Statuses that disable the endpoint at once: the receiver says it is gone for good. */
export const DISABLE_STATUSES: readonly number[] = [410];

/** Where a failed attempt stopped. */
export type AttemptPhase = 'connect' | 'headers' | 'body' | 'status';

/** Error codes that mean the connection never got established (DNS, refused, TLS, SSRF guard). */
export const CONNECT_ERROR_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_RETEN_TARGET_REFUSED',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
];

/** The result of one attempt, as the sender measured it. */
export interface AttemptResult {
  startedAt: Date;
  latencyMs: number;
  succeeded: boolean;
  statusCode: number | null;
  phase: AttemptPhase | null;
  error: string | null;
  responseExcerpt: string | null;
  /** Parsed `Retry-After`, in ms from now. */
  retryAfterMs: number | null;
}

export type Decision =
  | { kind: 'succeeded' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'failed' }
  | { kind: 'disable'; reason: string };

export interface PolicyOptions {
  /** Delay before each attempt in ms; its length is the number of attempts. */
  scheduleMs: readonly number[];
  jitterPercent: number;
  retryAfterMaxMs: number;
  random?: () => number;
}

/** Spreads `delayMs` by ± `percent` so retries of many deliveries do not land together. */
export function withJitter(delayMs: number, percent: number, random: () => number): number {
  if (delayMs === 0 || percent === 0) return delayMs;
  const spread = (delayMs * percent) / 100;
  return Math.max(0, Math.round(delayMs - spread + random() * 2 * spread));
}

/** What to do after attempt number `attempt` (1-based) ended with `result`. */
export function decide(result: AttemptResult, attempt: number, options: PolicyOptions): Decision {
  if (result.succeeded) return { kind: 'succeeded' };
  if (result.statusCode !== null && DISABLE_STATUSES.includes(result.statusCode)) {
    return { kind: 'disable', reason: `endpoint answered ${result.statusCode} Gone` };
  }
  const next = options.scheduleMs[attempt];
  if (next === undefined) return { kind: 'failed' };
  let delayMs = withJitter(next, options.jitterPercent, options.random ?? Math.random);
  if (
    result.statusCode !== null &&
    RETRY_AFTER_STATUSES.includes(result.statusCode) &&
    result.retryAfterMs !== null
  ) {
    delayMs = Math.max(delayMs, Math.min(result.retryAfterMs, options.retryAfterMaxMs));
  }
  return { kind: 'retry', delayMs };
}

/** `Retry-After: 120` or an HTTP date → ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
