/** `interop-conformance run`: settings → a conformance run → an exit code. */
import { describeError, isHarnessError, type HarnessError } from '../core/errors.js';
import { loadProfile } from '../core/profile.js';
import { runConformance } from '../harness/run.js';
import { createReporters } from '../reporters/registry.js';
import { baselineReport, openBaselineGate } from './baseline-gate.js';
import { lastFailedCases } from './last-failed.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import { resolveRunSettings, type RawRunFlags } from './options.js';

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
    const gate = await openBaselineGate(settings, out);
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
      ...(gate.judge === undefined ? {} : { judge: gate.judge }),
    });
    for (const p of outcome.reporterProblems) err.write(`interop-conformance: reporter problem: ${p}\n`);
    if (outcome.dir) out.write(`report: ${outcome.dir}\n`);
    if (!settings.reporters.includes('console')) baselineReport(outcome.report, out);
    return gate.exitCode(outcome.report);
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[(e as HarnessError).code] : EXIT.cannotRun;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}
