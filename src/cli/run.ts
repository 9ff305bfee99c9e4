/** `interop-conformance run`: settings → a conformance run → an exit code. */
import type { KeyObject } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { keyFingerprint, publicKeyPem } from '../certification/manifest.js';
import { certificationPackage } from '../certification/package.js';
import { Chalk } from 'chalk';
import { describeError, Interruption, isHarnessError, UsageError } from '../core/errors.js';
import type { StopSignal } from '../core/model.js';
import { loadProfile } from '../core/profile.js';
import { loadCatalogue, selectCases, type Selection } from '../harness/catalogue.js';
import { verdictLine } from '../reporters/console.js';
import { createReporters } from '../reporters/registry.js';
import { baselineReport, openBaselineGate } from './baseline-gate.js';
import { lastFailedCases } from './last-failed.js';
import { useColor } from './color.js';
import { EXIT, EXIT_FOR, EXIT_FOR_SIGNAL } from './exit-codes.js';
import { resolveRunSettings, type RawRunFlags, type RunSettings } from './options.js';
import { generateSigningKey, readSigningKey } from './signing-key.js';

export async function runCommand(
  flags: RawRunFlags,
  env: NodeJS.ProcessEnv,
  out: NodeJS.WriteStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const settings = resolveRunSettings(flags, env);
  const color = useColor(flags.color, env, out);
  const controller = new AbortController();
  // The first signal stops the run and still writes its report; a second one does not wait for that.
  const onSignal = (signal: StopSignal): void => {
    if (controller.signal.aborted) process.exit(EXIT_FOR_SIGNAL[signal]);
    err.write(
      `interop-conformance: ${signal}: stopping; the report will hold the cases that ran (${signal} again to quit at once)\n`,
    );
    controller.abort(new Interruption(signal));
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    // Everything that can refuse the run does so before the first case: the baseline, the key, the CA, the report folder.
    const gate = await openBaselineGate(settings, out);
    const signingKey = await officialKey(settings, out);
    // The package's report.json is what a reviewer verifies: an official run always writes it.
    const reporters =
      signingKey === undefined || settings.reporters.includes('json')
        ? settings.reporters
        : [...settings.reporters, 'json' as const];
    const lastFailed = settings.lastFailed ? await lastFailedCases(settings.outDir) : undefined;
    if (lastFailed !== undefined && lastFailed.cases.length === 0) {
      out.write(`--last-failed: nothing failed, errored or went unrun in ${lastFailed.file}; nothing to rerun\n`);
      return EXIT.conformant;
    }
    const providerCaPem = settings.providerCa === undefined ? undefined : await readCertificate(settings.providerCa);
    const hasConsole = settings.reporters.includes('console');
    // The console reporter prints the seed as the run begins; without it, the seed still shows, once.
    if (!hasConsole) out.write(`seed ${settings.seed}\n`);
    // A --last-failed rerun goes over the transport its cases failed on, unless told otherwise.
    const transport = settings.transport ?? lastFailed?.transport;
    const selection: Selection = {
      suites: settings.suites,
      tags: settings.tags,
      ...(settings.grep === undefined ? {} : { grep: settings.grep }),
      ...(lastFailed === undefined ? {} : { cases: lastFailed.cases }),
      ...(settings.shard === undefined ? {} : { shard: settings.shard }),
    };
    const catalogue = await loadCatalogue();
    selectCases(catalogue, selection);
    // The harness proper loads only now: a flag, a selection or a folder refused above costs no more than reading them.
    const { runConformance } = await import('../harness/run.js');
    const outcome = await runConformance({
      catalogue,
      ...(settings.provider === undefined ? {} : { provider: settings.provider }),
      ...(settings.token === undefined ? {} : { token: settings.token }),
      referenceFaults: settings.referenceFaults,
      ...(settings.referenceDeployment === undefined ? {} : { referenceDeployment: settings.referenceDeployment }),
      selection,
      seed: settings.seed,
      timeoutMs: settings.timeoutMs,
      reporters: createReporters(reporters, {
        out,
        color,
        requirements: await loadProfile(),
        ...(out.isTTY ? { terminal: { columns: out.columns || 80 } } : {}),
      }),
      outDir: settings.outDir,
      signal: controller.signal,
      bail: settings.bail,
      workers: settings.workers,
      ...(transport === undefined ? {} : { transport }),
      ...(providerCaPem === undefined ? {} : { providerCaPem, providerCaFile: settings.providerCa as string }),
      ...(gate.judge === undefined ? {} : { judge: gate.judge }),
      ...(signingKey === undefined
        ? {}
        : { certify: (report, files) => certificationPackage(report, files, signingKey) }),
      limits: settings.limits,
      allowPrivateTargets: settings.allowPrivateTargets,
    });
    for (const p of outcome.reporterProblems) err.write(`interop-conformance: reporter problem: ${p}\n`);
    if (outcome.dir) out.write(`report: ${outcome.dir}\n`);
    if (outcome.dir && signingKey !== undefined && outcome.report.run.interrupted === undefined) {
      out.write(
        `certification package: ${outcome.dir}, signed by key ${keyFingerprint(signingKey)}; check it with: interop-conformance verify-report ${outcome.dir}\n`,
      );
    }
    if (!hasConsole) {
      baselineReport(outcome.report, out);
      out.write(`${verdictLine(outcome.report, new Chalk({ level: color ? 1 : 0 }))}\n`);
    }
    return gate.exitCode(outcome.report);
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[e.code] : EXIT.cannotRun;
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  }
}

/** The key that signs an official run's package: the one given, or one made for this run and shown. */
async function officialKey(settings: RunSettings, out: NodeJS.WritableStream): Promise<KeyObject | undefined> {
  if (!settings.official) return undefined;
  if (settings.signingKey !== undefined) return readSigningKey(settings.signingKey);
  const key = generateSigningKey();
  out.write(
    `signing key: generated for this run, its private half kept nowhere; public key ${keyFingerprint(key)} (also in the package as public-key.pem):\n${publicKeyPem(key)}`,
  );
  return key;
}

/** The provider's CA, checked to be a certificate before any case runs. */
async function readCertificate(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
    new X509Certificate(pem);
  } catch (e) {
    throw new UsageError(`--provider-ca ${file}: not a readable PEM certificate (${(e as Error).message})`);
  }
  return pem;
}
