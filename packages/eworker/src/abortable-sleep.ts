/** A sleep that `wake()` ends early (stop, lost channel): a retry backoff that does not pin shutdown. */
export class AbortableSleep {
  private wakeCurrent: (() => void) | undefined;

  wake(): void {
    this.wakeCurrent?.();
  }

  sleep(ms: number): Promise<void> {
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
