/**
 * A baseline: the outcomes a CI gate accepts for now, each with a reason, an owner and an expiry,
 * so that an accepted failure cannot rot. Judging a run against one is pure: the CLI reads the
 * file, gives today's date, and maps the judgement to an exit code.
 * @see OpenID conformance suite's expected-failures files; WPT's expectation metadata.
 */
import type { ChatTransport } from '../protocol/transport.js';
import {
  caseName,
  type BaselineStatus,
  type CaseBaseline,
  type CaseResult,
  type Outcome,
  type RunReport,
} from './model.js';

export interface BaselineEntry {
  readonly case: string;
  /** The transport the entry holds for; over every transport when absent. */
  readonly transport?: ChatTransport;
  readonly expected: Outcome;
  readonly reason: string;
  readonly owner: string;
  /** Last day the entry holds, YYYY-MM-DD (UTC). */
  readonly expires: string;
}

export interface Baseline {
  readonly schemaVersion: 1;
  readonly entries: readonly BaselineEntry[];
}

export type BaselineProblem =
  | { readonly kind: 'unexpected'; readonly case: string; readonly outcome: Outcome; readonly message: string }
  | { readonly kind: 'changed'; readonly case: string; readonly outcome: Outcome; readonly entry: BaselineEntry }
  | { readonly kind: 'expired'; readonly entry: BaselineEntry };

/** Outcomes that fail a run when no entry expects them, as they make a run not conformant. */
const FAILS_UNLESS_EXPECTED: Record<Outcome, boolean> = {
  pass: false,
  warn: false,
  skip: false,
  fail: true,
  error: true,
};

/**
 * Every way the run departs from the baseline, in case order, then expired entries. Entries for
 * cases the run did not hold (another shard, a filter) are neither used nor a problem, unless expired.
 */
export function judgeAgainstBaseline(report: RunReport, baseline: Baseline, today: string): BaselineProblem[] {
  return judge(report, baseline, today).problems;
}

/** Each case's standing, decided once, and the departures it makes. */
function judge(
  report: RunReport,
  baseline: Baseline,
  today: string,
): { problems: BaselineProblem[]; cases: CaseResult[] } {
  const entryOf = entryFinder(baseline.entries);
  const problems: BaselineProblem[] = [];
  const cases = report.cases.map((r): CaseResult => {
    const entry = entryOf(r);
    const status = standing(r, entry);
    const name = caseName(r, report.run.transports);
    if (status === 'unexpected')
      problems.push({ kind: 'unexpected', case: name, outcome: r.outcome, message: r.message });
    else if (status !== 'as-expected' && entry !== undefined)
      problems.push({ kind: 'changed', case: name, outcome: r.outcome, entry });
    return { ...r, baseline: caseBaseline(status, entry, today) };
  });
  for (const entry of baseline.entries) if (entry.expires < today) problems.push({ kind: 'expired', entry });
  return { problems, cases };
}

/** A result's entry: the one for its case over its transport, else the one for its case over every transport. */
function entryFinder(entries: readonly BaselineEntry[]): (r: CaseResult) => BaselineEntry | undefined {
  const byKey = new Map(entries.map((e) => [entryKey(e.case, e.transport), e]));
  return (r) => byKey.get(entryKey(r.id, r.transport)) ?? byKey.get(entryKey(r.id, undefined));
}

const entryKey = (id: string, transport: ChatTransport | undefined): string => `${id} over ${transport ?? 'any'}`;

/** A case against its entry: the one place a case's standing is decided. */
function standing(r: CaseResult, entry: BaselineEntry | undefined): BaselineStatus {
  if (entry === undefined) return FAILS_UNLESS_EXPECTED[r.outcome] ? 'unexpected' : 'as-expected';
  if (entry.expected === r.outcome) return 'as-expected';
  return r.outcome === 'pass' ? 'newly-passing' : 'changed';
}

export function describeBaselineProblem(p: BaselineProblem): string {
  switch (p.kind) {
    case 'unexpected':
      return `unexpected ${p.outcome}: ${p.case}: ${p.message}`;
    case 'changed':
      return p.outcome === 'pass'
        ? `expected ${p.entry.expected} now passes: ${p.case}; remove its entry to tighten the baseline`
        : `expected ${p.entry.expected}, saw ${p.outcome}: ${p.case}`;
    case 'expired':
      return `expired on ${p.entry.expires}: ${p.entry.case} (owner ${p.entry.owner}: ${p.entry.reason}); renew or remove the entry`;
  }
}

/** How long a new entry holds unless someone renews it. */
export const NEW_ENTRY_DAYS = 90;

/**
 * A baseline that accepts this run: an entry for every case that failed or errored (what would
 * fail the gate). Entries still accurate keep their reason, owner and expiry; new ones say where
 * they came from and wait for an owner. Entries for cases this run did not hold (another shard, a
 * `--grep`) stay as they were: the run says nothing about them.
 */
export function baselineFromReport(report: RunReport, previous: Baseline | undefined, today: string): Baseline {
  const kept = entryFinder(previous?.entries ?? []);
  const expires = new Date(Date.parse(`${today}T00:00:00Z`) + NEW_ENTRY_DAYS * 86_400_000).toISOString().slice(0, 10);
  const entries = report.cases
    .filter((r) => FAILS_UNLESS_EXPECTED[r.outcome])
    .map((r): BaselineEntry => {
      const old = kept(r);
      if (old !== undefined && old.expected === r.outcome) return old;
      return {
        case: r.id,
        // Over several transports a case may fail on one only: the entry says which.
        ...(report.run.transports.length > 1 ? { transport: r.transport } : {}),
        expected: r.outcome,
        reason: `recorded from run ${report.run.id}: ${r.message}`,
        owner: 'unassigned',
        expires,
      };
    });
  // An entry kept for a case over every transport is one entry, however many of its results it matched.
  const unique = [...new Set(entries)];
  const held = new Set(report.cases.map((r) => entryKey(r.id, r.transport)));
  const untouched = (e: BaselineEntry): boolean =>
    e.transport === undefined ? !report.cases.some((r) => r.id === e.case) : !held.has(entryKey(e.case, e.transport));
  return { schemaVersion: 1, entries: [...unique, ...(previous?.entries ?? []).filter(untouched)] };
}

/**
 * The report with its judgement written in: each case's standing and entry, and the verdict with
 * every departure, so that report.json and the summaries carry what the gate decided and why.
 */
export function applyBaseline(report: RunReport, baseline: Baseline, file: string, today: string): RunReport {
  const { problems, cases } = judge(report, baseline, today);
  const departures = problems.map(describeBaselineProblem);
  return {
    ...report,
    cases,
    baseline: { file, date: today, entries: baseline.entries.length, matches: departures.length === 0, departures },
  };
}

function caseBaseline(status: BaselineStatus, entry: BaselineEntry | undefined, today: string): CaseBaseline {
  if (entry === undefined) return { status };
  return {
    status,
    entry: {
      expected: entry.expected,
      reason: entry.reason,
      owner: entry.owner,
      expires: entry.expires,
      expired: entry.expires < today,
    },
  };
}
