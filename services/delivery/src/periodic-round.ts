/**
 * A task run every `intervalMs` (timer unref'd), one round at a time: a round asked for while
 * one runs is that round. Subclasses say what a round does.
 */
export abstract class PeriodicRound {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly intervalMs: number) {}

  protected abstract round(): Promise<void>;

  start(): void {
    this.timer = setInterval(() => void this.runRound(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs a round now unless one is running; resolves when the round it started or found ends. */
  runRound(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
