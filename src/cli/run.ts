/** `interop-conformance run`: settings → a conformance run → an exit code. */
import { describeError, isHarnessError, type HarnessError } from '../core/errors.js';
import { runConformance } from '../harness/run.js';
import { createReporters } from '../reporters/create.js';
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
  out.write(`seed ${settings.seed}\n`);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const outcome = await runConformance({
      ...(settings.provider === undefined ? {} : { provider: settings.provider }),
      ...(settings.token === undefined ? {} : { token: settings.token }),
      referenceFaults: settings.referenceFaults,
      selection: { suites: settings.suites, tags: settings.tags, ...(settings.grep === undefined ? {} : { grep: settings.grep }) },
      seed: settings.seed,
      timeoutMs: settings.timeoutMs,
      reporters: createReporters(settings.reporters, { out, color }),
      outDir: settings.outDir,
      signal: controller.signal,
    });
    for (const p of outcome.reporterProblems) err.write(`interop-conformance: reporter problem: ${p}\n`);
    if (outcome.dir) out.write(`report: ${outcome.dir}\n`);
    return outcome.report.summary.conformant ? EXIT.conformant : EXIT.notConformant;
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[(e as HarnessError).code] : EXIT.cannotRun;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}
