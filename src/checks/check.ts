/** What a check is given, and what it returns. */
import type { Clock } from '../core/clock.js';
import type { Finding } from '../core/model.js';
import type { Rng } from '../core/rng.js';
import type { Lab } from './lab.js';

// The checks read their params and waits from here; they live apart so that lab.ts needs no import of this module.
export { choiceParam, numberParam, sessionMode } from './params.js';
export { ANSWER_MS, QUIET_MS } from './waits.js';

export interface CheckContext {
  readonly params: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  readonly rng: Rng;
  /** The run's clock: what `t`, `iat` and the like are made from and judged against. */
  readonly clock: Clock;
  readonly lab: Lab;
  /** Names the phase, for the evidence and a timeout's message. */
  step(name: string): void;
  note(text: string): void;
}

export type Check = (ctx: CheckContext) => Promise<Finding>;
