import { EventEmitter } from 'node:events';

/** A service's lifecycle, as in Temporal's worker. */
export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

const ALLOWED: Record<LifecycleState, LifecycleState[]> = {
  starting: ['running', 'draining', 'failed', 'stopped'],
  running: ['draining', 'failed', 'stopped'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: ['stopped'],
};

/** Holds the lifecycle state; readiness is `running` only. */
export class Lifecycle extends EventEmitter {
  private current: LifecycleState = 'starting';

  get state(): LifecycleState {
    return this.current;
  }

  /** Moves to `next`; an impossible transition is ignored and returns false. */
  transition(next: LifecycleState): boolean {
    if (!ALLOWED[this.current].includes(next)) return false;
    this.current = next;
    this.emit('state', next);
    return true;
  }
}
