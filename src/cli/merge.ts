/** `interop-conformance merge-reports DIR…`: shard reports → one report folder → an exit code, judged by a baseline as `run` is. */
import { describeError, isHarnessError } from '../core/errors.js';
import { loadProfile } from '../core/profile.js';
import { mergeReports } from '../harness/merge.js';
import { Chalk } from 'chalk';
import { verdictLine } from '../reporters/console.js';
import { createReporters } from '../reporters/registry.js';
import { useColor } from './color.js';
import { baselineReport, openBaselineGate } from './baseline-gate.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import { resolveMergeSettings, type RawMergeFlags } from './options.js';

export async function mergeCommand(
  dirs: readonly string[],
  flags: RawMergeFlags,
  env: NodeJS.ProcessEnv,
  out: NodeJS.WriteStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  try {
    const settings = resolveMergeSettings(dirs, flags);
    const color = useColor(flags.color, env, out);
    const reporters = createReporters(settings.reporters, { out, color, requirements: await loadProfile() });
    const gate = await openBaselineGate(settings, out);
    const outcome = await mergeReports(settings.dirs, reporters, settings.outDir, gate.judge);
    for (const p of outcome.reporterProblems) err.write(`interop-conformance: reporter problem: ${p}\n`);
    if (outcome.dir) out.write(`report: ${outcome.dir}\n`);
    if (!settings.reporters.includes('console')) {
      baselineReport(outcome.report, out);
      out.write(`${verdictLine(outcome.report, new Chalk({ level: color ? 1 : 0 }))}\n`);
    }
    return gate.exitCode(outcome.report);
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[e.code] : EXIT.cannotRun;
  }
}
