/** `interop-conformance run`: settings → a conformance run → an exit code. */
import type { KeyObject } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { keyFingerprint, publicKeyPem } from '../certification/manifest.js';
import { certificationPackage } from '../certification/package.js';
import { describeError, HarnessError, isHarnessError } from '../core/errors.js';
import { loadProfile } from '../core/profile.js';
import { runConformance } from '../harness/run.js';
import { createReporters } from '../reporters/registry.js';
import { baselineReport, openBaselineGate } from './baseline-gate.js';
import { lastFailedCases } from './last-failed.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import { resolveRunSettings, type RawRunFlags, type RunSettings } from './options.js';
import { generateSigningKey, readSigningKey } from './signing-key.js';

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
    const signingKey = await officialKey(settings, out);
    // The package's report.json is what a reviewer verifies: an official run always writes it.
    const reporters = signingKey === undefined || settings.reporters.includes('json') ? settings.reporters : [...settings.reporters, 'json' as const];
    const cases = settings.lastFailed ? await lastFailedCases(settings.outDir) : undefined;
    const providerCaPem = settings.providerCa === undefined ? undefined : await readCertificate(settings.providerCa);
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
      reporters: createReporters(reporters, { out, color, requirements: await loadProfile() }),
      outDir: settings.outDir,
      signal: controller.signal,
      bail: settings.bail,
      workers: settings.workers,
      ...(providerCaPem === undefined ? {} : { providerCaPem }),
      ...(gate.judge === undefined ? {} : { judge: gate.judge }),
      ...(signingKey === undefined ? {} : { seal: (report, files) => certificationPackage(report, files, signingKey) }),
      limits: settings.limits,
      allowPrivateTargets: settings.allowPrivateTargets,
    });
    for (const p of outcome.reporterProblems) err.write(`interop-conformance: reporter problem: ${p}\n`);
    if (outcome.dir) out.write(`report: ${outcome.dir}\n`);
    if (outcome.dir && signingKey !== undefined) {
      out.write(`certification package: ${outcome.dir}, signed by key ${keyFingerprint(signingKey)}; check it with: interop-conformance verify-report ${outcome.dir}\n`);
    }
    if (!settings.reporters.includes('console')) baselineReport(outcome.report, out);
    return gate.exitCode(outcome.report);
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[(e as HarnessError).code] : EXIT.cannotRun;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

/** The key that signs an official run's package: the one given, or one made for this run and shown. */
async function officialKey(settings: RunSettings, out: NodeJS.WritableStream): Promise<KeyObject | undefined> {
  if (!settings.official) return undefined;
  if (settings.signingKey !== undefined) return readSigningKey(settings.signingKey);
  const key = generateSigningKey();
  out.write(`signing key: generated for this run, its private half kept nowhere; public key ${keyFingerprint(key)} (also in the package as public-key.pem):\n${publicKeyPem(key)}`);
  return key;
}

/** The provider's CA, checked to be a certificate before any case runs. */
async function readCertificate(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
    new X509Certificate(pem);
  } catch (e) {
    throw new HarnessError('E_USAGE', `--provider-ca ${file}: not a readable PEM certificate (${(e as Error).message})`);
  }
  return pem;
}
