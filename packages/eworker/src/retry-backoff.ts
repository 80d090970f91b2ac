/**
 * Delay before try number `attempt` (2, 3, …): `baseMs` doubled per earlier retry, capped at
 * `maxMs`, with ±20 % jitter so replicas of many eworkers do not retry in step.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 2));
  const jitter = 1 + (random() * 2 - 1) * 0.2;
  return Math.max(0, Math.round(Math.min(maxMs, exponential * jitter)));
}
