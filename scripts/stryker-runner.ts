/**
 * The mutation sweep's test runner (`npm run mutation`, stryker.config.mjs): a StrykerJS plugin
 * whose tests are the harness's cases, run over xml-ws against the reference provider of Stryker's
 * sandbox, which holds every mutant at once (mutant schemata) and turns on one per run.
 *
 * The dry run goes one case at a time and tells the instrumented code which case is running
 * (`__stryker__.currentTestId`), so each mutant runs only the cases that reach its code. A mutant is
 * killed by a case that fails or warns, as a provider with that bug would be found. A case that
 * ends without a verdict (`error`) does not kill it: the harness could not say the provider was
 * wrong. Those mutants show as survived; the case that errored is not named in Stryker's report.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MutantCoverage } from '@stryker-mutator/api/core';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';
import {
  determineHitLimitReached,
  DryRunStatus,
  TestStatus,
  toMutantRunResult,
  type DryRunOptions,
  type DryRunResult,
  type MutantRunOptions,
  type MutantRunResult,
  type TestResult,
  type TestRunner,
  type TestRunnerCapabilities,
} from '@stryker-mutator/api/test-runner';
import type { CaseResult } from '../src/core/model.js';
import type { TlsMaterial } from '../src/gatekeeper/tls.js';
import type { Catalogue } from '../src/harness/catalogue.js';
import type { runConformance as RunConformance } from '../src/harness/run.js';

/** What the instrumented code reads and writes on globalThis. */
interface StrykerNamespace {
  activeMutant?: string | undefined;
  currentTestId?: string | undefined;
  mutantCoverage?: MutantCoverage;
  hitCount?: number | undefined;
  hitLimit?: number | undefined;
}

/**
 * A case's deadline while a mutant is on, unless the case sets its own: the clean provider's
 * cases without one end within 2 s.
 */
const MUTANT_CASE_MS = 10_000;

const global = globalThis as { __stryker__?: StrykerNamespace };
const ns = (): StrykerNamespace => (global.__stryker__ ??= {});

/** The sandbox's own build: the harness as Stryker instrumented it, not the project's. */
const sandboxModule = <T>(...path: string[]): Promise<T> =>
  import(pathToFileURL(join(process.cwd(), 'dist', ...path)).href) as Promise<T>;

class HarnessTestRunner implements TestRunner {
  private run!: typeof RunConformance;
  private catalogue!: Catalogue;
  private tls!: TlsMaterial;

  capabilities(): TestRunnerCapabilities {
    // Modules loaded with `import` cannot be loaded again: Stryker starts a new process instead.
    return { reloadEnvironment: false };
  }

  async init(): Promise<void> {
    this.run = (
      await sandboxModule<{ runConformance: typeof RunConformance }>('src', 'harness', 'run.js')
    ).runConformance;
    const { loadCatalogue } = await sandboxModule<typeof import('../src/harness/catalogue.js')>(
      'src',
      'harness',
      'catalogue.js',
    );
    const { generateTls } = await sandboxModule<typeof import('../src/gatekeeper/tls.js')>(
      'src',
      'gatekeeper',
      'tls.js',
    );
    this.catalogue = await loadCatalogue();
    this.tls = await generateTls();
  }

  async dryRun(options: DryRunOptions): Promise<DryRunResult> {
    // The instrumented code keeps the object it first wrote to (at import): add to that one.
    const mutantCoverage = (ns().mutantCoverage ??= { static: {}, perTest: {} });
    const result = await this.cases(undefined, options.timeout);
    return result.status === DryRunStatus.Complete ? { ...result, mutantCoverage } : result;
  }

  async mutantRun(options: MutantRunOptions): Promise<MutantRunResult> {
    const space = ns();
    space.activeMutant = options.activeMutant.id;
    space.hitCount = options.hitLimit === undefined ? undefined : 0;
    space.hitLimit = options.hitLimit;
    try {
      // One failing case kills the mutant: unless Stryker asks for them all, the run stops there.
      const result = await this.cases(options.testFilter, options.timeout, !options.disableBail);
      return toMutantRunResult(determineHitLimitReached(space.hitCount, space.hitLimit) ?? result);
    } finally {
      space.activeMutant = undefined;
      space.hitCount = undefined;
      space.hitLimit = undefined;
    }
  }

  /** The cases given (all of them when none are), one at a time, each its own test. */
  private async cases(ids: readonly string[] | undefined, timeoutMs: number, bail = false): Promise<DryRunResult> {
    const space = ns();
    const tests: TestResult[] = [];
    try {
      await this.run({
        catalogue: this.catalogue,
        transport: 'xml-ws',
        selection: { suites: [], tags: [], ...(ids ? { cases: ids } : {}) },
        seed: 20261123,
        // A case of the clean provider ends within a few seconds; a mutant that leaves one waiting
        // out a long deadline ends in an error, which kills nothing, so it may as well end early.
        timeoutMs: Math.min(bail ? MUTANT_CASE_MS : 20_000, timeoutMs),
        tls: this.tls,
        workers: 1,
        ...(bail ? { bail: true } : {}),
        reporters: [
          {
            name: 'stryker',
            onCaseBegin: (c) => (space.currentTestId = c.id),
            onCaseEnd: (r) => {
              space.currentTestId = undefined;
              tests.push(asTest(r));
            },
          },
        ],
      });
    } catch (e) {
      return { status: DryRunStatus.Error, errorMessage: (e as Error).message };
    }
    return { status: DryRunStatus.Complete, tests };
  }
}

function asTest(r: CaseResult): TestResult {
  const base = { id: r.id, name: r.id, timeSpentMs: r.durationMs };
  switch (r.outcome) {
    case 'fail':
    case 'warn':
      return { ...base, status: TestStatus.Failed, failureMessage: `${r.outcome}: ${r.actual ?? r.message}` };
    case 'skip':
      return { ...base, status: TestStatus.Skipped };
    default:
      // pass, and error: no verdict against the provider.
      return { ...base, status: TestStatus.Success };
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, 'interop-conformance', HarnessTestRunner)];
