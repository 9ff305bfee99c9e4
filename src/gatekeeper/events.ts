/**
 * Listener sets and bounded waits: how the gatekeeper's observations reach the checks. Every wait
 * has a deadline and a signal (STYLE habit 1): a silent peer yields null, an aborted case rejects
 * with the signal's reason, and nothing is left behind (timer cleared, listener removed).
 */
import type { WaitOptions } from './observation-types.js';

/** A set of listeners; one listener's exception never stops the others nor the emitter. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  add(listener: (value: T) => void): () => void {
    // Wrap, so that adding the same function twice gives two independent subscriptions.
    const entry = (value: T): void => listener(value);
    this.set.add(entry);
    return () => {
      this.set.delete(entry);
    };
  }

  emit(value: T): void {
    for (const listener of [...this.set]) {
      try {
        listener(value);
      } catch {
        // A listener's bug is its own; the wire goes on.
      }
    }
  }

  get size(): number {
    return this.set.size;
  }
}

/**
 * Waits until `subscribe`'s callback is called, the deadline passes (null) or the signal aborts
 * (rejects with its reason). `subscribe` may call back synchronously, for a value already there;
 * it returns its unsubscribe function.
 */
export function waitFor<T>(
  options: WaitOptions,
  subscribe: (resolve: (value: T) => void) => () => void,
): Promise<T | null> {
  const { signal, timeoutMs } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T | null>((resolve, reject) => {
    let done = false;
    let unsubscribe: (() => void) | undefined;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      unsubscribe?.();
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal.reason));
    const timer = setTimeout(() => finish(() => resolve(null)), Math.max(0, timeoutMs));
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const off = subscribe((value) => finish(() => resolve(value)));
      // The callback may already have fired during subscribe.
      if (done) off();
      else unsubscribe = off;
    } catch (e) {
      finish(() => reject(e));
    }
  });
}

/**
 * The first of `seen` that matches, or the first `listeners` emit later: a recorded list a check
 * can wait on. A matcher that throws does not match.
 */
export function waitForRecorded<T>(
  seen: readonly T[],
  listeners: Listeners<T>,
  match: (value: T) => boolean,
  options: WaitOptions,
): Promise<T | null> {
  const fits = (value: T): boolean => {
    try {
      return match(value);
    } catch {
      return false;
    }
  };
  return waitFor<T>(options, (resolve) => {
    const found = seen.find(fits);
    if (found !== undefined) {
      resolve(found);
      return () => {};
    }
    return listeners.add((value) => {
      if (fits(value)) resolve(value);
    });
  });
}

/**
 * Runs async operations one after another per key: libsignal has no locking, and two concurrent
 * operations on one session reuse a counter (research/libsignal.md §2).
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(op, op);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Runs `op` once every operation queued so far, on any key, has finished. */
  async all<T>(op: () => Promise<T>): Promise<T> {
    await Promise.all(this.tails.values());
    return op();
  }
}
