/** `interop-conformance run`: settings → a conformance run → an exit code. */
import { baselineFromReport, describeBaselineProblem, judgeAgainstBaseline, type Baseline } from '../core/baseline.js';
import { describeError, isHarnessError, type HarnessError } from '../core/errors.js';
import type { RunReport } from '../core/model.js';
import { loadProfile } from '../core/profile.js';
import { runConformance } from '../harness/run.js';
import { createReporters } from '../reporters/create.js';
import { readBaseline, readBaselineIfAny, writeBaseline } from './baseline-file.js';
import { lastFailedCases } from './last-failed.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import { resolveRunSettings, type RawRunFlags, type RunSettings } from './options.js';

export async function runCommand(
  flags: RawRunFlags,
  env: NodeJS.ProcessEnv,
  out: NodeJS.WriteStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const settings = resolveRunSettings(flags, env);
  const color = Boolean(out.isTTY) && env['NO_COLOR'] === undefined;
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    // A bad baseline is found before any case runs.
    const baseline = settings.baseline === undefined ? undefined : await readBaseline(settings.baseline);
    const previous = baseline ?? (settings.updateBaseline === undefined ? undefined : await readBaselineIfAny(settings.updateBaseline));
    const cases = settings.lastFailed ? await lastFailedCases(settings.outDir) : undefined;
    out.write(`seed ${settings.seed}\n`);
    const outcome = await runConformance({
      ...(settings.provider === undefined ? {} : { provider: settings.provider }),
      ...(settings.token === undefined ? {} : { token: settings.token }),
      referenceFaults: settings.referenceFaults,
      selection: {
        suites: settings.suites,
        tags: settings.tags,
        ...(settings.grep === undefined ? {} : { grep: settings.grep }),
        ...(cases === undefined ? {} : { cases }),
        ...(settings.shard === undefined ? {} : { shard: settings.shard }),
      },
      seed: settings.seed,
      timeoutMs: settings.timeoutMs,
      reporters: createReporters(settings.reporters, { out, color, requirements: await loadProfile() }),
      outDir: settings.outDir,
      signal: controller.signal,
      bail: settings.bail,
      limits: settings.limits,
      allowPrivateTargets: settings.allowPrivateTargets,
    });
    for (const p of outcome.reporterProblems) err.write(`interop-conformance: reporter problem: ${p}\n`);
    if (outcome.dir) out.write(`report: ${outcome.dir}\n`);
    return await verdict(outcome.report, settings, previous, out);
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[(e as HarnessError).code] : EXIT.cannotRun;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

/**
 * Without a baseline, the run's conformance. With one, the gate passes when the run departs from
 * it in nothing; `--update-baseline` writes one that accepts the run, then judges by it.
 */
async function verdict(report: RunReport, settings: RunSettings, previous: Baseline | undefined, out: NodeJS.WritableStream): Promise<number> {
  let baseline = settings.baseline === undefined ? undefined : previous;
  const today = new Date().toISOString().slice(0, 10);
  if (settings.updateBaseline !== undefined) {
    baseline = baselineFromReport(report, previous, today);
    await writeBaseline(settings.updateBaseline, baseline);
    out.write(`baseline: wrote ${baseline.entries.length} entries to ${settings.updateBaseline}\n`);
  }
  if (baseline === undefined) return report.summary.conformant ? EXIT.conformant : EXIT.notConformant;
  const problems = judgeAgainstBaseline(report, baseline, today);
  for (const p of problems) out.write(`baseline: ${describeBaselineProblem(p)}\n`);
  out.write(problems.length === 0 ? 'baseline: the run matches the baseline\n' : `baseline: ${problems.length} departures from the baseline\n`);
  return problems.length === 0 ? EXIT.conformant : EXIT.notConformant;
}
