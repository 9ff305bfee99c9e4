/**
 * The conformance model: suites and cases as declared, results as observed. Closed unions are
 * mapped exhaustively (`Record<Outcome, …>`) so that a new outcome fails to compile where unhandled.
 */
import type { Deployment } from '../protocol/driver-api.js';
import type { ChatTransport } from '../protocol/transport.js';

export type Level = 'MUST' | 'SHOULD' | 'MAY';
export const LEVELS: readonly Level[] = ['MUST', 'SHOULD', 'MAY'];

export type Outcome = 'pass' | 'fail' | 'warn' | 'skip' | 'error';
export const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'warn', 'skip', 'error'];

export type SuiteName = 'encryption' | 'stanza' | 'enlistment' | 'ownership' | 'media' | 'messaging' | 'proxy';

export interface Requirement {
  /** Stable id of a requirement in docs/PROFILE.md, e.g. FRAME-OPEN. */
  readonly id: string;
  /** A short quote of the requirement's sentence. */
  readonly quote: string;
}

/** A deliberate defect of the reference provider that must make the case fail. */
export interface FaultRef {
  readonly name: string;
  /** Text the failure message must contain under this fault: the specific reason. */
  readonly expect: string;
}

export interface CaseSpec {
  readonly id: string;
  readonly suite: SuiteName;
  readonly title: string;
  readonly level: Level;
  readonly requirement: Requirement;
  /**
   * The clauses of the requirement the case judges, by their numbers in docs/PROFILE.md (`[1]`),
   * when the requirement marks clauses; absent when it marks none.
   */
  readonly clauses?: readonly number[];
  readonly tags: readonly string[];
  /** Capabilities the provider must declare for the case to run. */
  readonly needs: readonly string[];
  /** The chat transports the case applies to; every one when absent (docs/PROFILE.md TRANSPORTS). */
  readonly transports?: readonly ChatTransport[];
  /** The provider deployment the case applies to (Discovery.deployment); every one when absent. */
  readonly deployment?: Deployment;
  /** Name of the check in the check registry. */
  readonly check: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly faults: readonly FaultRef[];
  readonly timeoutMs?: number;
}

export interface SuiteSpec {
  readonly name: SuiteName;
  readonly title: string;
  readonly file: string;
  /** sha256 of the suite file, hex. */
  readonly digest: string;
  readonly cases: readonly CaseSpec[];
}

/**
 * What a check concludes. A requirement not met is data, never an exception: only harness problems
 * are thrown, and they make the case `error`.
 */
export type Finding =
  | { readonly verdict: 'met'; readonly note?: string }
  | { readonly verdict: 'not-met'; readonly expected: string; readonly actual: string }
  | { readonly verdict: 'not-applicable'; readonly reason: string };

export const met = (note?: string): Finding => (note === undefined ? { verdict: 'met' } : { verdict: 'met', note });
export const notMet = (expected: string, actual: string): Finding => ({ verdict: 'not-met', expected, actual });
export const notApplicable = (reason: string): Finding => ({ verdict: 'not-applicable', reason });

export type EvidenceEntry =
  | {
      readonly kind: 'frame';
      readonly at: number;
      readonly connection: string;
      readonly login?: string;
      /** Direction relative to the provider's client. */
      readonly direction: 'client-to-gatekeeper' | 'gatekeeper-to-client';
      readonly binary: boolean;
      readonly bytes: number;
      readonly text: string;
      readonly truncated?: boolean;
    }
  | {
      readonly kind: 'http';
      readonly at: number;
      readonly method: string;
      readonly url: string;
      readonly status?: number;
      readonly requestBody?: string;
      readonly responseBody?: string;
      readonly error?: string;
      readonly durationMs: number;
    }
  | { readonly kind: 'step'; readonly at: number; readonly name: string }
  | { readonly kind: 'note'; readonly at: number; readonly text: string };

export interface CaseResult {
  readonly id: string;
  /** The chat transport of the lane the case ran in: a run over several holds a case once per transport. */
  readonly transport: ChatTransport;
  readonly suite: SuiteName;
  readonly title: string;
  readonly level: Level;
  readonly requirement: Requirement;
  readonly tags: readonly string[];
  readonly outcome: Outcome;
  /** Says what was expected and what was seen. */
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
  /** Name of the step that was running when the verdict or error came. */
  readonly step?: string;
  /** The harness cap (core/limits.ts) the provider went past in this case, if any. */
  readonly limit?: { readonly name: string; readonly value: number };
  readonly startedAt: string;
  readonly durationMs: number;
  readonly evidence: readonly EvidenceEntry[];
  /** How the case stood against the baseline the run was judged by, if any. */
  readonly baseline?: CaseBaseline;
}

/**
 * How a case's result is named wherever a person reads it: its id, and over which transport when
 * the run went over several, since the id is then in the report once per transport.
 */
export const caseName = (
  r: { readonly id: string; readonly transport: ChatTransport },
  transports: readonly ChatTransport[],
): string => (transports.length > 1 ? `${r.id} [${r.transport}]` : r.id);

/**
 * A case against a baseline: `as-expected` (the entry's outcome, or no entry and nothing failed),
 * `unexpected` (a failure or error no entry expects), `newly-passing` (an expected failure that now
 * passes), `changed` (any other outcome than the entry's).
 */
export type BaselineStatus = 'as-expected' | 'unexpected' | 'newly-passing' | 'changed';

export interface CaseBaseline {
  readonly status: BaselineStatus;
  /** The case's entry, when the baseline has one; `expired` when the run is past its expiry. */
  readonly entry?: {
    readonly expected: Outcome;
    readonly reason: string;
    readonly owner: string;
    readonly expires: string;
    readonly expired: boolean;
  };
}

/** The gate's judgement of a run against a baseline file. */
export interface BaselineVerdict {
  readonly file: string;
  /** The day (UTC) expiries were judged on, YYYY-MM-DD. */
  readonly date: string;
  readonly entries: number;
  /** True when the run departs from the baseline in nothing. */
  readonly matches: boolean;
  /** Every departure, one line each, in case order, then expired entries. */
  readonly departures: readonly string[];
}

/**
 * `conformant` is null when the run was interrupted: cases that never ran say nothing either way,
 * so such a run has no conformance verdict at all.
 */
export type Summary = Record<Outcome, number> & { readonly total: number; readonly conformant: boolean | null };

/** What a run's report concludes, for every place that shows it; map it with a `Record<Verdict, …>`. */
export type Verdict = 'conformant' | 'not-conformant' | 'interrupted';

export function verdictOf(summary: Summary): Verdict {
  return summary.conformant === null ? 'interrupted' : summary.conformant ? 'conformant' : 'not-conformant';
}

/** The signals that stop a run early: Ctrl-C, and a CI job's cancel or `timeout`. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface ProviderInfo {
  readonly endpoint: string;
  readonly embedded: boolean;
  readonly faults: readonly string[];
  readonly discovery: unknown;
  readonly driver: unknown;
}

/** One of `total` deterministic shares of a selection, counted from 1. */
export interface Shard {
  readonly index: number;
  readonly total: number;
}

export interface RunMeta {
  readonly id: string;
  readonly tool: { readonly name: string; readonly version: string };
  readonly profileVersion: string;
  readonly seed: number;
  /** The chat transports the run went over, one lane each, in turn. */
  readonly transports: readonly ChatTransport[];
  /**
   * The deployments the run judged its cases in: the provider's, or both for the embedded
   * reference provider (its proxy deployment's cases against a second one). Absent in older reports.
   */
  readonly deployments?: readonly Deployment[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly provider: ProviderInfo;
  readonly suites: readonly {
    readonly name: SuiteName;
    readonly file: string;
    readonly digest: string;
    readonly cases: number;
  }[];
  readonly filters: {
    readonly suites: readonly string[];
    readonly grep?: string;
    readonly tags: readonly string[];
    /** Case ids the run was limited to (`--last-failed`). */
    readonly cases?: readonly string[];
    /** This run's share of the selection (`--shard index/total`). */
    readonly shard?: Shard;
    /** The one transport the run was limited to (`--transport`); every declared one otherwise. */
    readonly transport?: ChatTransport;
  };
  /** Caps the run set away from their defaults (`--limit`), by name. */
  readonly limits?: Readonly<Record<string, number>>;
  /** Present (true) when a run against an endpoint was let reach private targets. */
  readonly allowPrivateTargets?: true;
  /** The default per-case deadline (`--timeout`), in ms; absent in reports of older versions. */
  readonly timeoutMs?: number;
  /** The CA file the provider's HTTPS was trusted by (`--provider-ca`), as given, to repeat the run. */
  readonly providerCa?: string;
  /** Present (true) when the run stopped at the first MUST failure (`--bail`). */
  readonly bail?: true;
  /** Present when a signal stopped the run: cases not yet run are skipped, and there is no verdict. */
  readonly interrupted?: { readonly signal: StopSignal };
  readonly node: string;
}

/**
 * The deployments the run judged its cases in; an older report's is the one its provider declared
 * in its discovery document (`direct` when it said none).
 */
export function deploymentsOf(run: RunMeta): readonly Deployment[] {
  if (run.deployments) return run.deployments;
  const declared = (run.provider.discovery as { readonly deployment?: unknown } | null | undefined)?.deployment;
  return [declared === 'proxy' ? 'proxy' : 'direct'];
}

/**
 * The deployments, for a report's header. Both (the embedded reference provider's default) means
 * every case direct, and the proxy deployment's own cases behind the proxy: not every case twice.
 */
export const deploymentsText = (run: RunMeta): string => {
  const all = deploymentsOf(run);
  return all.length > 1 ? 'direct, and behind its proxy for the proxy cases' : `in the ${all.join('')} deployment`;
};

export interface RunReport {
  readonly schemaVersion: 1;
  readonly run: RunMeta;
  readonly summary: Summary;
  readonly cases: readonly CaseResult[];
  /** Present when the run was judged against a baseline (`--baseline`, `--update-baseline`). */
  readonly baseline?: BaselineVerdict;
}

/** A run is conformant when no MUST failed and nothing errored; an interrupted run is neither. */
export function summarize(results: readonly CaseResult[], interrupted = false): Summary {
  const counts: Record<Outcome, number> = { pass: 0, fail: 0, warn: 0, skip: 0, error: 0 };
  for (const r of results) counts[r.outcome]++;
  return { ...counts, total: results.length, conformant: interrupted ? null : counts.fail === 0 && counts.error === 0 };
}
