/**
 * Reading a case's params. Apart from check.ts so that the Testbed, which check.ts names in
 * CheckContext, can read the session mode without importing check.ts back.
 */
import { SuiteError } from '../core/errors.js';
import type { SessionMode } from '../protocol/driver-api.js';

/** What the readers need of a check's context or a case's spec. */
export interface WithParams {
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * A numeric parameter of the case, or its default when the case gives none. A value that is not a
 * number is the suite's error, never a silent default.
 */
export function numberParam(ctx: WithParams, name: string, fallback: number): number {
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
export function choiceParam<T extends string>(ctx: WithParams, name: string, choices: readonly T[], fallback?: T): T {
  const v = ctx.params[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  throw new SuiteError(`the case's params.${name} is ${JSON.stringify(v)}, not one of ${choices.join(', ')}`);
}

/** The session mode a case runs in (`params.mode`): `classic` unless it says `pq`. */
export function sessionMode(ctx: WithParams): SessionMode {
  return choiceParam<SessionMode>(ctx, 'mode', ['classic', 'pq'], 'classic');
}
