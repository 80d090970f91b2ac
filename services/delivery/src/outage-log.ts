import type { Logger } from '@reten/observability';

export interface OutageLogOptions {
  log: Logger;
  /** Logged (warn) when the first failure of an outage is seen. */
  downMessage: string;
  /** Logged (info) at the first success after an outage. */
  upMessage: string;
  /** Called on every failure (a counter); the log says only when the state changes. */
  onFailure: () => void;
  /** Called with true when an outage starts and false when it ends (a gauge). */
  onChange?: (down: boolean) => void;
}

/**
 * The state of a dependency as its callers see it: one log line when it starts failing, one
 * when it answers again, and every failure counted, so an outage is not one line per call.
 */
export class OutageLog {
  private down = false;

  constructor(private readonly options: OutageLogOptions) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(err: unknown): void {
    this.options.onFailure();
    if (this.down) return;
    this.down = true;
    this.options.onChange?.(true);
    this.options.log.warn({ err }, this.options.downMessage);
  }

  succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.options.onChange?.(false);
    this.options.log.info(this.options.upMessage);
  }
}
