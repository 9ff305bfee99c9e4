/**
 * One conformance run, end to end: select the cases, bring up the provider (the embedded reference
 * one unless an endpoint is given), probe it, start the gatekeeper, run, report. The CLI maps the
 * outcome to an exit code; the tests call this directly.
 */
import { CHAT_TRANSPORTS, DEFAULT_TRANSPORTS, type ChatTransport } from '../protocol/transport.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DefinedCheck } from '../checks/check.js';
import { checkManifest, loadCheck } from '../checks/manifest.js';
import { Testbed } from '../checks/testbed.js';
import { systemClock, type Clock } from '../core/clock.js';
import { InternalError, interruptionOf, ProviderProbeError, SelectionError, UsageError } from '../core/errors.js';
import { changedLimits, DEFAULT_LIMITS, type Limits } from '../core/limits.js';
import type { CaseResult, CaseSpec, RunReport } from '../core/model.js';
import { summarize } from '../core/model.js';
import { projectFile } from '../core/paths.js';
import { Rng } from '../core/rng.js';
import { lanesOf, runCases } from '../core/runner.js';
import { probeProvider, type DriverClient } from '../driver/client.js';
import { startGatekeeper } from '../gatekeeper/gatekeeper.js';
import { preparePushKeys } from '../gatekeeper/push.js';
import { resolveTls } from '../gatekeeper/tls.js';
import type { Gatekeeper } from '../gatekeeper/types.js';
import { PROFILE_VERSION } from '../protocol/constants.js';
import { DEFAULT_DEPLOYMENT, DISCOVERY_PATH, type Deployment, type Discovery } from '../protocol/driver-api.js';
import type { FaultName } from '../reference-provider/faults.js';
import { startReferenceProvider, type ReferenceProvider } from '../reference-provider/provider.js';
import { deviceAddressesUnusable } from '../reference-provider/users.js';
import { Multiplexer } from '../reporters/multiplexer.js';
import type { Reporter, ReportFile } from '../reporters/reporter.js';
import { checkReportRoot, runId, writeReportFiles } from '../reporters/write.js';
import { checkFaultNames, loadCatalogue, selectCases, type Catalogue, type Selection } from './catalogue.js';
import { refusePrivateTargets } from './private-targets.js';

export interface RunOptions {
  /** Provider endpoint; when absent the embedded reference provider runs on loopback. */
  readonly provider?: string;
  readonly token?: string;
  /** Faults of the embedded reference provider. */
  readonly referenceFaults?: readonly string[];
  /**
   * The one deployment of the embedded reference provider: `direct`, or `proxy` behind its chat
   * proxy. When absent, both: the proxy deployment's cases go to a second provider in it.
   */
  readonly referenceDeployment?: Deployment;
  /** Hears each time the embedded reference provider asks whether a fault is on (the kill matrix's trace). */
  readonly onReferenceFaultConsulted?: (fault: FaultName) => void;
  readonly selection: Selection;
  readonly seed: number;
  /** Default per-case deadline. */
  readonly timeoutMs: number;
  readonly reporters: readonly Reporter[];
  /** Report folder root; no files are written when absent. */
  readonly outDir?: string;
  readonly suiteDir?: string;
  /** The catalogue, when the caller has loaded it already (the CLI, to refuse a selection early). */
  readonly catalogue?: Catalogue;
  /** Reuse a certificate (tests); otherwise one is generated for the run. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  readonly signal?: AbortSignal;
  /** Stop at the first MUST failure; the remaining cases are skipped with the reason. */
  readonly bail?: boolean;
  /** A CA the provider's HTTPS certificates chain to, trusted besides the system's (PEM). */
  readonly providerCaPem?: string;
  /** The file providerCaPem was read from, recorded so that the report's re-run command repeats the run. */
  readonly providerCaFile?: string;
  /** Gatekeepers run side by side, each with whole suites (default 1). */
  readonly workers?: number;
  /** The one chat transport to run over (`--transport`); by default every one the provider declares, in turn. */
  readonly transport?: ChatTransport;
  /** The time checks judge by; the system clock unless a test fixes it. */
  readonly clock?: Clock;
  /** Writes a judgement into the report before any reporter sees it (a baseline's). */
  readonly judge?: (report: RunReport) => Promise<RunReport>;
  /** Adds files made from all the others (the certification package's) before the folder is written. */
  readonly certify?: (report: RunReport, files: readonly ReportFile[]) => readonly ReportFile[];
  /** Sees each of the run's gatekeepers once it is up: what passes through unredacted (the redaction test's secrets). */
  readonly watch?: (gatekeeper: Gatekeeper) => void;
  /** Caps and deadlines on what the harness reads from the provider; the defaults otherwise. */
  readonly limits?: Limits;
  /**
   * Let media and server-to-server fetches reach loopback, private and link-local addresses. The
   * embedded reference provider runs on loopback, so a run without an endpoint always allows them.
   */
  readonly allowPrivateTargets?: boolean;
}

export interface RunOutcome {
  readonly report: RunReport;
  /** The folder the report was written to, if any. */
  readonly dir?: string;
  /** Problems of reporters, which never change the verdict. */
  readonly reporterProblems: readonly string[];
}

const TOOL_VERSION = (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;

export async function runConformance(options: RunOptions): Promise<RunOutcome> {
  const catalogue = options.catalogue ?? (await loadCatalogue(options.suiteDir));
  const cases = selectCases(catalogue, options.selection);
  const faults = checkFaults(options);
  // Key generation runs on the thread pool while the provider starts and is probed.
  const tlsReady = resolveTls(options.tls);
  for (const ready of [tlsReady, preparePushKeys()]) ready.catch(() => undefined);
  const clock = options.clock ?? systemClock;
  const started = Date.now();
  const limits = options.limits ?? DEFAULT_LIMITS;
  const allowPrivateTargets = options.provider === undefined || options.allowPrivateTargets === true;
  // A report that could not be written would be found only after every case had run.
  if (options.outDir !== undefined) await checkReportRoot(options.outDir);
  const teardown: (() => Promise<unknown>)[] = [];
  try {
    let endpoint = options.provider;
    let token = options.token ?? '';
    let providerCaPem = options.providerCaPem;
    // A token given for the embedded provider is used as is (tests plant a known secret this way).
    if (endpoint === undefined) token = options.token ?? randomBytes(24).toString('base64url');
    const startEmbedded = async (deployment: Deployment | undefined): Promise<ReferenceProvider> => {
      const embedded = await startReferenceProvider({
        faults,
        driverToken: token,
        ...(deployment === undefined ? {} : { deployment }),
        ...(options.onReferenceFaultConsulted === undefined
          ? {}
          : { onFaultConsulted: options.onReferenceFaultConsulted }),
      });
      teardown.push(() => embedded.close());
      return embedded;
    };
    if (endpoint === undefined) {
      const embedded = await startEmbedded(options.referenceDeployment);
      endpoint = embedded.url;
      providerCaPem = embedded.mediaCaPem;
    }
    const { discovery, info, driver } = await probeProvider(endpoint, token, limits, providerCaPem);
    teardown.push(() => driver.close());
    if (!allowPrivateTargets) await refusePrivateTargets(discovery, new URL(DISCOVERY_PATH, endpoint).toString());
    const transports = runTransports(discovery.transports ?? DEFAULT_TRANSPORTS, options.transport);
    // The embedded reference provider is certified in both deployments unless one is named: the
    // cases for the proxy deployment go to a second one, behind its chat proxy, on a gatekeeper of
    // their own (started only when the selection has such a case).
    const bothDeployments = options.provider === undefined && options.referenceDeployment === undefined;
    // Asked whatever the selection, so that every shard of one run on one machine records the same deployments.
    const proxyUnusable = bothDeployments ? await deviceAddressesUnusable() : undefined;
    const proxyWanted = bothDeployments && cases.some((c) => c.deployment === 'proxy');
    const deploymentsLeftOut = new Map<Deployment, string>(
      proxyUnusable === undefined
        ? []
        : [
            [
              'proxy',
              `the embedded reference provider cannot run behind its proxy on this machine: ${proxyUnusable}; see README (macOS needs loopback aliases)`,
            ],
          ],
    );
    const deployments: Deployment[] =
      bothDeployments && proxyUnusable === undefined
        ? ['direct', 'proxy']
        : [discovery.deployment ?? DEFAULT_DEPLOYMENT];
    const proxySite =
      proxyWanted && proxyUnusable === undefined
        ? await probeEmbedded(await startEmbedded('proxy'), token, limits, teardown)
        : undefined;
    for (const d of [driver, ...(proxySite ? [proxySite.driver] : [])]) {
      try {
        await d.reset();
      } catch (e) {
        throw new ProviderProbeError(`the driver's reset failed: ${(e as Error).message}`, { cause: e });
      }
    }
    // The selected cases' checks, imported before the first case starts: no case's time includes loading them.
    const manifest = checkManifest();
    const loaded = new Map<string, DefinedCheck>();
    for (const name of new Set(cases.map((c) => c.check))) {
      const entry = manifest.get(name);
      if (entry) loaded.set(name, await loadCheck(entry));
    }
    const suiteWorkers = assignSuites(cases, options.workers ?? 1);
    const workers = proxySite
      ? {
          count: suiteWorkers.count + 1,
          of: (spec: CaseSpec) => (spec.deployment === 'proxy' ? suiteWorkers.count : suiteWorkers.of(spec)),
        }
      : suiteWorkers;
    const tls = await tlsReady;
    const gatekeepers: Gatekeeper[] = [];
    /** Each worker's provider: the proxy deployment's worker has its own. */
    const drivers: DriverClient[] = [];
    for (let worker = 0; worker < workers.count; worker++) {
      const site = proxySite && worker === suiteWorkers.count ? proxySite : { discovery, driver, providerCaPem };
      const gatekeeper = await startGatekeeper({
        // Worker 0 keeps the run's seed, so one worker gives the logins and ids it always gave; the
        // others fork it by their old label, `lane N`, so a run with --workers keeps its logins too.
        seed: worker === 0 ? options.seed : new Rng(options.seed).fork(`lane ${worker}`).seed,
        tls,
        clock,
        limits,
        allowPrivateTargets,
        // Each embedded provider's media host has a certificate of its own.
        ...(site.providerCaPem === undefined ? {} : { providerCaPem: site.providerCaPem }),
      });
      teardown.push(() => gatekeeper.close());
      gatekeeper.setProvider(site.discovery);
      gatekeepers.push(gatekeeper);
      drivers.push(site.driver);
      options.watch?.(gatekeeper);
    }

    const mux = new Multiplexer(options.reporters);
    mux.onBegin({
      seed: options.seed,
      cases: lanesOf(cases, transports).reduce((n, lane) => n + lane.cases.length + lane.notApplicable.length, 0),
      transports,
      provider: endpoint,
      suites: [...new Set(cases.map((c) => c.suite))],
    });
    // A check that changes provider-wide state (its declared `changes`) runs while no other case does.
    const isExclusive = (spec: CaseSpec): boolean => (manifest.get(spec.check)?.changes.length ?? 0) > 0;
    const results: CaseResult[] = await runCases({
      cases,
      seed: options.seed,
      defaultTimeoutMs: options.timeoutMs,
      capabilities: new Set([...discovery.capabilities, ...discovery.sessionModes]),
      deployments,
      deploymentsLeftOut,
      transports,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.bail ? { bail: true } : {}),
      onCaseBegin: (spec, transport) => mux.onCaseBegin({ id: spec.id, transport }),
      onCaseEnd: (r) => mux.onCaseEnd(r),
      workers,
      isExclusive,
      execute: async (env) => {
        const check = loaded.get(env.spec.check);
        if (!check) throw new InternalError(`no check named ${env.spec.check}`);
        const gatekeeper = gatekeepers[env.worker] as Gatekeeper;
        const caseDriver = (drivers[env.worker] as DriverClient).forCase(
          (entry) => env.record(entry),
          env.signal,
          (what) => env.awaiting(what),
        );
        const testbed = new Testbed(gatekeeper, caseDriver, env, env.transport);
        const stopListening = [
          gatekeeper.onLimit((hit) => env.limitHit(hit)),
          gatekeeper.onProtocolError((message) => env.protocolError(message)),
        ];
        try {
          const context = {
            params: env.spec.params,
            signal: env.signal,
            rng: env.rng,
            clock,
            testbed,
            step: (name: string) => env.step(name),
            note: (text: string) => env.record({ kind: 'note', at: Date.now(), text }),
          };
          return await check.run(context, check.changes.length > 0 ? caseDriver : undefined);
        } finally {
          for (const stop of stopListening) stop();
        }
      },
    });

    const finished = Date.now();
    // A stopped run is reported, so that what ran is not lost, but judged by nothing: neither a baseline nor a certification package.
    const interrupted = options.signal?.aborted ? (interruptionOf(options.signal.reason) ?? 'SIGINT') : undefined;
    const selectedSuites = new Set(cases.map((c) => c.suite));
    const changed = changedLimits(limits);
    const raw: RunReport = {
      schemaVersion: 1,
      run: {
        id: runId(started),
        tool: { name: 'interop-conformance', version: TOOL_VERSION },
        profileVersion: PROFILE_VERSION,
        seed: options.seed,
        transports,
        deployments,
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date(finished).toISOString(),
        durationMs: finished - started,
        provider: { endpoint, embedded: options.provider === undefined, faults, discovery, driver: info },
        suites: catalogue.suites
          .filter((s) => selectedSuites.has(s.name))
          .map((s) => ({
            name: s.name,
            file: s.file,
            digest: s.digest,
            cases: cases.filter((c) => c.suite === s.name).length,
          })),
        filters: {
          suites: options.selection.suites,
          tags: options.selection.tags,
          ...(options.selection.grep === undefined ? {} : { grep: options.selection.grep }),
          ...(options.selection.cases === undefined ? {} : { cases: options.selection.cases }),
          ...(options.selection.shard === undefined ? {} : { shard: options.selection.shard }),
          ...(options.transport === undefined ? {} : { transport: options.transport }),
        },
        ...(Object.keys(changed).length === 0 ? {} : { limits: changed }),
        ...(options.provider !== undefined && allowPrivateTargets ? { allowPrivateTargets: true as const } : {}),
        timeoutMs: options.timeoutMs,
        ...(options.providerCaFile === undefined ? {} : { providerCa: options.providerCaFile }),
        ...(options.bail ? { bail: true as const } : {}),
        ...(interrupted === undefined ? {} : { interrupted: { signal: interrupted } }),
        node: process.version,
      },
      summary: summarize(results, interrupted !== undefined),
      cases: results,
    };
    const report = options.judge === undefined || interrupted !== undefined ? raw : await options.judge(raw);
    const reported = mux.onEnd(report);
    const files =
      options.certify === undefined || interrupted !== undefined ? reported : options.certify(report, reported);
    const dir = options.outDir === undefined ? undefined : await writeReportFiles(options.outDir, report.run.id, files);
    return { report, ...(dir === undefined ? {} : { dir }), reporterProblems: mux.problems };
  } finally {
    for (const fn of teardown.reverse()) await fn().catch(() => undefined);
  }
}

/** A second embedded provider, probed as the first was, whose driver closes with the run. */
async function probeEmbedded(
  embedded: ReferenceProvider,
  token: string,
  limits: Limits,
  teardown: (() => Promise<unknown>)[],
): Promise<{ readonly discovery: Discovery; readonly driver: DriverClient; readonly providerCaPem: string }> {
  const { discovery, driver } = await probeProvider(embedded.url, token, limits, embedded.mediaCaPem);
  teardown.push(() => driver.close());
  return { discovery, driver, providerCaPem: embedded.mediaCaPem };
}

/**
 * Deals whole suites to workers, largest first onto the lightest worker, so a suite's cases keep sharing
 * one gatekeeper and the split is the same for the same selection whatever the seed.
 */
function assignSuites(cases: readonly CaseSpec[], workers: number): { count: number; of: (spec: CaseSpec) => number } {
  const sizes = new Map<string, number>();
  for (const c of cases) sizes.set(c.suite, (sizes.get(c.suite) ?? 0) + 1);
  const count = Math.max(1, Math.min(workers, sizes.size));
  const load = new Array<number>(count).fill(0);
  const workerOfSuite = new Map<string, number>();
  for (const [suite, size] of [...sizes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    const worker = load.indexOf(Math.min(...load));
    workerOfSuite.set(suite, worker);
    load[worker] = (load[worker] ?? 0) + size;
  }
  return { count, of: (spec) => workerOfSuite.get(spec.suite) ?? 0 };
}

/** The lanes of a run: the one asked for, which the provider must declare, or all it declares, in the harness's order. */
function runTransports(declared: readonly ChatTransport[], asked: ChatTransport | undefined): ChatTransport[] {
  if (asked === undefined) return CHAT_TRANSPORTS.filter((t) => declared.includes(t));
  if (!declared.includes(asked))
    throw new SelectionError(
      `the provider declares the transports ${declared.join(', ')}, not ${asked}: pick one with --transport`,
    );
  return [asked];
}

function checkFaults(options: RunOptions): FaultName[] {
  const faults = options.referenceFaults ?? [];
  if (faults.length > 0 && options.provider !== undefined) {
    throw new UsageError('--reference-fault applies to the embedded reference provider only; drop --provider');
  }
  if (options.referenceDeployment !== undefined && options.provider !== undefined) {
    throw new UsageError(
      '--reference-deployment applies to the embedded reference provider only; a provider declares its own deployment in its discovery document; drop --provider',
    );
  }
  return checkFaultNames(faults);
}
