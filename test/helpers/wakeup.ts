/** Wakes whoever waits for the next arrival (a frame, a close); each wait also ends at its own bound. */
export class Wakeup {
  private readonly wakers = new Set<() => void>();

  wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Resolves at the next `wake`, or after `ms`, whichever comes first. */
  next(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waker = (): void => {
        clearTimeout(timer);
        this.wakers.delete(waker);
        resolve();
      };
      const timer = setTimeout(waker, ms);
      timer.unref();
      this.wakers.add(waker);
    });
  }
}
