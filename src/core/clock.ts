/**
 * The time that checks judge by: proof and token expiry, `t` timestamps, baseline expiry. The run
 * takes one (the system clock unless a test fixes it), so that no test depends on today's date.
 * Durations and deadlines (timeouts, performance.now) are not judged time and do not use it.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that reads `ms` until told otherwise: for tests. */
export function fixedClock(ms: number): Clock & { set(ms: number): void } {
  let at = ms;
  return {
    now: () => at,
    set: (next) => {
      at = next;
    },
  };
}

/** Whole Unix seconds, as JWT claims and stanza `t` attributes count them. */
export const unixSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);

/** The UTC day, YYYY-MM-DD, as baseline entries name their expiry. */
export const utcDay = (clock: Clock): string => new Date(clock.now()).toISOString().slice(0, 10);
