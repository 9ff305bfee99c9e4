/** What a check is given, and what it returns. */
import type { Clock } from '../core/clock.js';
import { SuiteError } from '../core/errors.js';
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

/**
 * A numeric parameter of the case, or its default when the case gives none. A value that is not a
 * number is the suite's error, never a silent default.
 */
export function numberParam(ctx: Pick<CheckContext, 'params'>, name: string, fallback: number): number {
  const v = ctx.params[name];
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new SuiteError(`the case's params.${name} is ${JSON.stringify(v)}, not a number`);
}

/**
 * A parameter that names one of `choices`, or `fallback` when the case gives none (no fallback: it
 * must be given). An unknown value is the suite's error: read as the default, it would turn a
 * negative case into a positive one.
 */
export function choiceParam<T extends string>(ctx: Pick<CheckContext, 'params'>, name: string, choices: readonly T[], fallback?: T): T {
  const v = ctx.params[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  throw new SuiteError(`the case's params.${name} is ${JSON.stringify(v)}, not one of ${choices.join(', ')}`);
}

/** How long a check waits for something that should come (an answer) and for nothing to come. */
export const ANSWER_MS = 5000;
export const QUIET_MS = 1500;

/** The session mode a case runs in (`params.mode`): `classic` unless it says `pq`. */
export function sessionMode(ctx: Pick<CheckContext, 'params'>): SessionMode {
  return choiceParam<SessionMode>(ctx, 'mode', ['classic', 'pq'], 'classic');
}
