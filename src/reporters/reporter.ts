/**
 * What a reporter is: optional hooks over the model. A reporter builds values (lines on a stream,
 * files as strings) and never writes files itself: `write.ts` does, once, for all of them.
 */
import type { CaseResult, RunReport, SuiteName } from '../core/model.js';
import type { ProfileRequirement } from '../core/profile.js';
import type { ChatTransport } from '../protocol/transport.js';

/** A file for the run's report folder; `name` is a plain file name, no directories. */
export interface ReportFile {
  readonly name: string;
  readonly content: string;
}

export interface RunStart {
  readonly seed: number;
  /** Case runs: a case counts once per transport it runs over. */
  readonly cases: number;
  /** The chat transports, one lane each, in turn. */
  readonly transports: readonly ChatTransport[];
  readonly provider: string;
  readonly suites: readonly string[];
}

/** A case run about to start: its id and the transport of its lane. */
export interface CaseStart {
  readonly id: string;
  readonly transport: ChatTransport;
}

export interface Reporter {
  readonly name: string;
  onBegin?(start: RunStart): void;
  /** Called once per case that runs (not for one skipped before it starts), as it starts. */
  onCaseBegin?(start: CaseStart): void;
  /** Called once per case, as it finishes. */
  onCaseEnd?(result: CaseResult): void;
  onEnd?(report: RunReport): readonly ReportFile[];
}

/** What the CLI hands every reporter it creates; each takes what it needs. */
export interface ReporterContext {
  readonly out: { write(chunk: string): unknown };
  readonly color: boolean;
  /** Set when `out` is a terminal: its width, for a status line redrawn in place. */
  readonly terminal?: { readonly columns: number };
  /** The profile's requirements, for the HTML coverage matrix. */
  readonly requirements?: readonly ProfileRequirement[];
}

/**
 * A reporter module exports one of these beside its class; the list in `registry.ts` is the only
 * other place that names it, and the CLI's `--reporter` choices come from that list.
 */
export interface ReporterDescriptor<N extends string = string> {
  readonly name: N;
  create(context: ReporterContext): Reporter;
}

/** The report's suites in run order, then any suite only a case names (a drifted report). */
export function reportSuites(report: RunReport): SuiteName[] {
  const names = report.run.suites.map((s) => s.name);
  for (const r of report.cases) if (!names.includes(r.suite)) names.push(r.suite);
  return names;
}
