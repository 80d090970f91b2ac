/** A sleep that ends early when `wake()` is called (NOTIFY, broker reconnect, shutdown). */
export class WakeSignal {
  private wakeCurrent: (() => void) | undefined;
  private pending = false;

  wake(): void {
    if (this.wakeCurrent) this.wakeCurrent();
    else this.pending = true;
  }

  /** Waits up to `ms`, or less if woken (a wake before the wait is not lost). */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeCurrent = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeCurrent = done;
    });
  }
}
