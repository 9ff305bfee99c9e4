/**
 * The one error class for harness problems (never for a provider's non-conformance, which is data).
 * Match on `code`, not on `instanceof`. Each code maps to one exit code in the CLI.
 */
import type { StopSignal } from './model.js';

export type HarnessErrorCode =
  | 'E_USAGE' // bad flag or argument
  | 'E_SUITE' // a suite file is malformed or names an unknown check
  | 'E_SELECT' // unknown suite, case, tag or fault
  | 'E_PROVIDER_UNREACHABLE' // the endpoint did not answer
  | 'E_PROVIDER_PROBE' // discovery or driver probe gave an unusable answer
  | 'E_DRIVER' // a driver call failed during a case
  | 'E_PRECONDITION' // a case could not reach the state its check needs
  | 'E_TIMEOUT' // a deadline passed
  | 'E_REPORT' // a report could not be written
  | 'E_INTERNAL';

export class HarnessError extends Error {
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HarnessError';
  }
}

export const isHarnessError = (e: unknown): e is HarnessError =>
  e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && e.name === 'HarnessError';

/** One line for a human: the message, and the cause's when it adds something. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? e.cause.message : undefined;
  return cause && !e.message.includes(cause) ? `${e.message} (${cause})` : e.message;
}

/**
 * Thrown from deep inside a helper (a driver answer that breaks its schema, say) when the provider
 * broke a rule and the check cannot go on. The runner turns it back into data: a not-met finding.
 */
export class ProviderViolation extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`expected ${expected}; saw ${actual}`);
    this.name = 'ProviderViolation';
  }
}

export const isProviderViolation = (e: unknown): e is ProviderViolation =>
  e instanceof Error && e.name === 'ProviderViolation';

/**
 * The reason a run's signal is aborted with when a person (Ctrl-C) or a CI job (cancel, `timeout`)
 * stops it: cases in flight end without a verdict, and the report says which signal it was.
 */
export class Interruption extends Error {
  constructor(readonly signal: StopSignal) {
    super(`the run was interrupted (${signal})`);
    this.name = 'Interruption';
  }
}

export const interruptionOf = (reason: unknown): StopSignal | undefined =>
  reason instanceof Error && reason.name === 'Interruption' ? (reason as Interruption).signal : undefined;
