export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  initialMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
}

/** Reconnect delays of `tail` and `listen`: 250 ms doubling up to 15 s. */
export const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 15_000 };

/**
 * Delay before retry number `attempt` (0 for the first): exponential, capped at `maxMs`, and
 * jittered down to half of it so many clients cut by one deploy do not all come back at once.
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = RECONNECT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponential = options.initialMs * 2 ** Math.min(attempt, 30);
  const capped = Math.min(options.maxMs, exponential);
  return Math.round(capped / 2 + (capped / 2) * random());
}
