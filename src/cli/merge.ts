/** `interop-conformance merge-reports DIR…`: shard reports → one report folder → an exit code. */
import { describeError, isHarnessError, type HarnessError } from '../core/errors.js';
import { loadProfile } from '../core/profile.js';
import { mergeReports } from '../harness/merge.js';
import { createReporters } from '../reporters/registry.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import { resolveMergeSettings } from './options.js';

export async function mergeCommand(
  dirs: readonly string[],
  flags: { out?: string; reporter?: string },
  env: NodeJS.ProcessEnv,
  out: NodeJS.WriteStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  try {
    const settings = resolveMergeSettings(dirs, flags);
    const color = Boolean(out.isTTY) && env['NO_COLOR'] === undefined;
    const reporters = createReporters(settings.reporters, { out, color, requirements: await loadProfile() });
    const outcome = await mergeReports(settings.dirs, reporters, settings.outDir);
    for (const p of outcome.reporterProblems) err.write(`interop-conformance: reporter problem: ${p}\n`);
    if (outcome.dir) out.write(`report: ${outcome.dir}\n`);
    return outcome.report.summary.conformant ? EXIT.conformant : EXIT.notConformant;
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[(e as HarnessError).code] : EXIT.cannotRun;
  }
}
