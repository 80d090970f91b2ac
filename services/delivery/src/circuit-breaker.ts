interface State {
  failures: number;
  openedAt: number | null;
}

/**
 * Per-endpoint circuit breaker of this process: after `threshold` failed attempts in a row
 * the endpoint is open for `cooldownMs` (its deliveries wait in a retry tier, not counted as
 * attempts); then one attempt goes through (half-open) while the others wait another
 * cooldown; a success closes it.
 */
export class CircuitBreaker {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long the endpoint stays closed to attempts; 0 = send now. */
  blockedForMs(endpointId: string): number {
    const state = this.states.get(endpointId);
    if (!state || state.openedAt === null) return 0;
    const left = state.openedAt + this.cooldownMs - this.now();
    if (left > 0) return left;
    state.openedAt = this.now(); // half-open: this caller tries, the next ones wait again
    return 0;
  }

  /** Whether the endpoint's last attempt here failed (no success since): open or not yet. */
  failing(endpointId: string): boolean {
    return this.states.has(endpointId);
  }

  record(endpointId: string, succeeded: boolean): void {
    if (succeeded) {
      this.states.delete(endpointId);
      return;
    }
    const state = this.states.get(endpointId) ?? { failures: 0, openedAt: null };
    state.failures += 1;
    if (state.failures >= this.threshold) state.openedAt = this.now();
    this.states.set(endpointId, state);
  }
}
