/** What a check is given, and what it returns. */
import type { Clock } from '../core/clock.js';
import type { Finding } from '../core/model.js';
import type { Rng } from '../core/rng.js';
import type { Lab } from './lab.js';
import type { SessionMode } from '../protocol/driver-api.js';

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

/** A numeric parameter of the case, or its default. */
export function numberParam(ctx: CheckContext, name: string, fallback: number): number {
  const v = ctx.params[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** How long a check waits for something that should come (an answer) and for nothing to come. */
export const ANSWER_MS = 5000;
export const QUIET_MS = 1500;

/** The session mode a case runs in (`params.mode`): `classic` unless it says `pq`. */
export function sessionMode(ctx: Pick<CheckContext, 'params'>): SessionMode {
  return ctx.params['mode'] === 'pq' ? 'pq' : 'classic';
}
