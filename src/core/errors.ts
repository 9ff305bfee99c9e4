/**
 * The harness's errors, one family after undici's (lib/core/errors.js): a base class with a stable
 * `code`, one subclass per failure mode, and the data as fields, never only in the message. Match
 * on `code` (isHarnessError, isProviderViolation, …), not on `instanceof`, `name` or message text.
 * docs/ARCHITECTURE.md, "Errors", lists the codes.
 */
import { codeOf, CodedError } from '../protocol/errors.js';
import type { StopSignal } from './model.js';

export { codeOf };

/** The harness's problems (never a provider's non-conformance, which is data). Each code maps to one exit code in the CLI. */
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

/** Every code of the family: the harness's problems, and what the runner turns into a verdict or a stop. */
export type ErrorCode =
  | HarnessErrorCode
  | 'E_PROVIDER_VIOLATION' // the provider broke a rule deep in a helper: a not-met finding
  | 'E_LIMIT_EXCEEDED' // the provider went past a harness cap (core/limits.ts): a not-met finding naming it
  | 'E_ENDED_EARLY' // the runner ended a case for a cap or a protocol error (core/runner.ts): a not-met finding
  | 'E_INTERRUPTED' // a signal stopped the run
  | 'E_PRIVATE_TARGET'; // a connection to a private address was refused (net/private-targets.ts)

/** The base of the family. */
export abstract class ConformanceError extends CodedError {
  abstract override readonly code: ErrorCode;
}

/**
 * A problem of the harness: it could not run, or could not decide a case. Every subclass keeps the
 * name HarnessError, which is what a person reads in `String(e)`; the code says which one it is.
 */
export abstract class HarnessError extends ConformanceError {
  abstract override readonly code: HarnessErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
  }
}

export class UsageError extends HarnessError {
  override readonly code = 'E_USAGE';
}

export class SuiteError extends HarnessError {
  override readonly code = 'E_SUITE';
}

export class SelectionError extends HarnessError {
  override readonly code = 'E_SELECT';
}

export class ProviderUnreachableError extends HarnessError {
  override readonly code = 'E_PROVIDER_UNREACHABLE';
}

export class ProviderProbeError extends HarnessError {
  override readonly code = 'E_PROVIDER_PROBE';
}

export class DriverCallError extends HarnessError {
  override readonly code = 'E_DRIVER';
  /** The HTTP status the driver answered with, when it answered: its own error, not a lost call. */
  readonly status: number | undefined;

  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.status = options?.status;
  }
}

/** The HTTP status of a driver call the driver answered with an error; undefined for any other failure. */
export const driverStatusOf = (e: unknown): number | undefined =>
  codeOf(e) === 'E_DRIVER' ? (e as DriverCallError).status : undefined;

export class PreconditionError extends HarnessError {
  override readonly code = 'E_PRECONDITION';
}

/**
 * A deadline of the harness passed: `case deadline of 20000 ms passed during <step>`, and, when
 * the case was waiting on the provider's driver then, which call and for how long: a driver too
 * slow for the deadline leaves the harness without a verdict, not the provider without a pass.
 */
export class TimeoutError extends HarnessError {
  override readonly code = 'E_TIMEOUT';

  constructor(
    /** Which deadline: `case deadline`, `request deadline`. */
    readonly deadline: string,
    readonly ms: number,
    /** The case's step when it passed, if it had one. */
    readonly step?: string,
    /** What the case was waiting on when it passed (`the driver call POST /users`), and for how long. */
    readonly waitingOn?: { readonly what: string; readonly forMs: number },
  ) {
    super(
      `${deadline} of ${ms} ms passed${step ? ` during ${step}` : ''}${
        waitingOn ? `: ${waitingOn.what} took too long, still unanswered after ${waitingOn.forMs} ms` : ''
      }`,
    );
  }
}

export class ReportError extends HarnessError {
  override readonly code = 'E_REPORT';
}

export class InternalError extends HarnessError {
  override readonly code = 'E_INTERNAL';
}

const HARNESS_CODES: Readonly<Record<HarnessErrorCode, true>> = {
  E_USAGE: true,
  E_SUITE: true,
  E_SELECT: true,
  E_PROVIDER_UNREACHABLE: true,
  E_PROVIDER_PROBE: true,
  E_DRIVER: true,
  E_PRECONDITION: true,
  E_TIMEOUT: true,
  E_REPORT: true,
  E_INTERNAL: true,
};

export const isHarnessError = (e: unknown): e is HarnessError => {
  const code = codeOf(e);
  return typeof code === 'string' && Object.hasOwn(HARNESS_CODES, code);
};

export const isTimeout = (e: unknown): e is TimeoutError => codeOf(e) === 'E_TIMEOUT';

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
export class ProviderViolation extends ConformanceError {
  override readonly code = 'E_PROVIDER_VIOLATION';

  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`expected ${expected}; saw ${actual}`);
    this.name = 'ProviderViolation';
  }
}

export const isProviderViolation = (e: unknown): e is ProviderViolation => codeOf(e) === 'E_PROVIDER_VIOLATION';

/**
 * The reason a run's signal is aborted with when a person (Ctrl-C) or a CI job (cancel, `timeout`)
 * stops it: cases in flight end without a verdict, and the report says which signal it was.
 */
export class Interruption extends ConformanceError {
  override readonly code = 'E_INTERRUPTED';

  constructor(readonly signal: StopSignal) {
    super(`the run was interrupted (${signal})`);
    this.name = 'Interruption';
  }
}

export const interruptionOf = (reason: unknown): StopSignal | undefined =>
  codeOf(reason) === 'E_INTERRUPTED' ? (reason as Interruption).signal : undefined;
