/**
 * The one headline of a run, shown by every report and by the CLI: the judgement the exit code
 * follows. Without a baseline that is the run's conformance; with one it is the baseline's
 * judgement, and the raw conformance stands beside it, so a headline never contradicts the exit
 * code. An interrupted run has no verdict and says so.
 */
import { verdictOf, type RunReport, type Verdict } from '../core/model.js';
import { NOT_RUN_INTERRUPTED } from '../core/runner.js';

/** How the headline reads for a gate: `good` exits 0, `bad` exits 1, `none` (interrupted) exits 130 or 143. */
export type Tone = 'good' | 'bad' | 'none';

export interface Headline {
  readonly text: string;
  readonly tone: Tone;
}

const plural = (n: number, word: string): string => (n === 1 ? `${n} ${word}` : `${n} ${word}s`);

/** The cases a stopped run never started. */
export const notRun = (report: RunReport): number =>
  report.cases.filter((r) => r.outcome === 'skip' && r.message === NOT_RUN_INTERRUPTED).length;

/** The run's own conformance, in words. */
export function conformance(report: RunReport): Headline {
  const { summary } = report;
  const words: Record<Verdict, () => Headline> = {
    conformant: () => ({
      text: `CONFORMANT${summary.warn > 0 ? `, with ${plural(summary.warn, 'SHOULD')} not met` : ''}`,
      tone: 'good',
    }),
    'not-conformant': () => ({
      text: `NOT CONFORMANT: ${summary.fail} failed, ${summary.error} errored (an error is never a pass)`,
      tone: 'bad',
    }),
    interrupted: () => {
      const skipped = notRun(report);
      const signal = report.run.interrupted?.signal ?? 'a signal';
      return {
        text: `INTERRUPTED by ${signal}: ${summary.total - skipped} of ${plural(summary.total, 'case')} ran, ${skipped} not run; no verdict`,
        tone: 'none',
      };
    },
  };
  return words[verdictOf(summary)]();
}

/** The headline: the baseline's judgement when the run was held to one, with the raw conformance beside it. */
export function headline(report: RunReport): Headline {
  const raw = conformance(report);
  const b = report.baseline;
  if (b === undefined || raw.tone === 'none') return raw;
  const beside = `(the run itself: ${raw.text})`;
  return b.matches
    ? { text: `MATCHES THE BASELINE ${beside}`, tone: 'good' }
    : { text: `DEPARTS FROM THE BASELINE: ${plural(b.departures.length, 'departure')} ${beside}`, tone: 'bad' };
}
