/**
 * The CI gate of `run` and `merge-reports`: read the baseline before anything runs, write the
 * judgement into the report before any reporter sees it, and turn the report into an exit code.
 * Without a baseline the report's own conformance decides; `--update-baseline` first writes a
 * baseline that accepts the run, then judges by it.
 */
import { systemClock, utcDay, type Clock } from '../core/clock.js';
import { applyBaseline, baselineFromReport, type Baseline } from '../core/baseline.js';
import type { RunReport } from '../core/model.js';
import { readBaseline, readBaselineIfAny, writeBaseline } from './baseline-file.js';
import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { loadCatalogue } from '../harness/catalogue.js';
import { EXIT, EXIT_FOR_SIGNAL } from './exit-codes.js';

export interface BaselineFlags {
  readonly baseline?: string;
  readonly updateBaseline?: string;
}

export interface BaselineGate {
  /** Undefined when no baseline is involved: the report stays as it is. */
  readonly judge?: (report: RunReport) => Promise<RunReport>;
  exitCode(report: RunReport): number;
}

/**
 * A bad baseline file is a usage error here, before any case runs; so is an entry for a case that
 * does not exist (a typo, or a case renamed since), which would otherwise hold nothing, silently.
 */
export async function openBaselineGate(
  flags: BaselineFlags,
  out: NodeJS.WritableStream,
  clock: Clock = systemClock,
  knownCases: () => Promise<ReadonlySet<string>> = catalogueCases,
): Promise<BaselineGate> {
  const today = utcDay(clock);
  const given = flags.baseline === undefined ? undefined : await readBaseline(flags.baseline);
  const previous =
    given ?? (flags.updateBaseline === undefined ? undefined : await readBaselineIfAny(flags.updateBaseline));
  for (const [baseline, file] of [
    [given, flags.baseline],
    [previous, flags.updateBaseline],
  ] as const) {
    if (baseline !== undefined && file !== undefined) checkCaseIds(baseline, file, await knownCases());
  }
  const exitCode = (report: RunReport): number => {
    if (report.run.interrupted !== undefined) return EXIT_FOR_SIGNAL[report.run.interrupted.signal];
    const ok = report.baseline === undefined ? report.summary.conformant : report.baseline.matches;
    return ok ? EXIT.conformant : EXIT.notConformant;
  };
  if (flags.baseline === undefined && flags.updateBaseline === undefined) return { exitCode };
  const judge = async (report: RunReport): Promise<RunReport> => {
    let baseline: Baseline | undefined = given;
    let file = flags.baseline;
    if (flags.updateBaseline !== undefined) {
      baseline = baselineFromReport(report, previous, today);
      file = flags.updateBaseline;
      await writeBaseline(file, baseline);
      out.write(`baseline: wrote ${baseline.entries.length} entries to ${file}\n`);
    }
    return applyBaseline(report, baseline as Baseline, file as string, today);
  };
  return { judge, exitCode };
}

async function catalogueCases(): Promise<ReadonlySet<string>> {
  const catalogue = await loadCatalogue();
  return new Set(catalogue.suites.flatMap((s) => s.cases.map((c) => c.id)));
}

function checkCaseIds(baseline: Baseline, file: string, known: ReadonlySet<string>): void {
  baseline.entries.forEach((e, i) => {
    if (!known.has(e.case)) {
      throw new UsageError(
        `baseline ${file}: /entries/${i}/case "${e.case}" is no case of this harness${didYouMean(e.case, known)} (\`interop-conformance list\` shows them)`,
      );
    }
  });
}

/** For output without the console reporter, whose summary already shows them. */
export function baselineReport(report: RunReport, out: NodeJS.WritableStream): void {
  const b = report.baseline;
  if (b === undefined) return;
  for (const d of b.departures) out.write(`baseline: ${d}\n`);
  out.write(
    b.matches
      ? 'baseline: the run matches the baseline\n'
      : `baseline: ${b.departures.length} departures from the baseline\n`,
  );
}
