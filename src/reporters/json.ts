/**
 * `report.json`: the source of truth, checked by schemas/report.schema.json. Keys are written in
 * the model's order whatever order the runner built them in, so that two reports diff cleanly and
 * snapshot tests only need to mask times.
 */
import type {
  BaselineVerdict,
  CaseBaseline,
  CaseResult,
  EvidenceEntry,
  RunMeta,
  RunReport,
  Summary,
} from '../core/model.js';
import type { Reporter, ReporterDescriptor, ReportFile } from './reporter.js';

export const jsonReporter: ReporterDescriptor<'json'> = { name: 'json', create: () => new JsonReporter() };

export class JsonReporter implements Reporter {
  readonly name = 'json' as const;

  onEnd(report: RunReport): readonly ReportFile[] {
    return [{ name: 'report.json', content: toJson(report) }];
  }
}

export function toJson(report: RunReport): string {
  return `${JSON.stringify(ordered(report), null, 2)}\n`;
}

/** The report rebuilt with its keys in model order; optional fields absent stay absent. */
export function ordered(report: RunReport): RunReport {
  return {
    schemaVersion: report.schemaVersion,
    run: orderedRun(report.run),
    summary: orderedSummary(report.summary),
    cases: report.cases.map(orderedCase),
    ...(report.baseline === undefined ? {} : { baseline: orderedVerdict(report.baseline) }),
  };
}

function orderedRun(run: RunMeta): RunMeta {
  const { provider, filters } = run;
  return {
    id: run.id,
    tool: { name: run.tool.name, version: run.tool.version },
    profileVersion: run.profileVersion,
    seed: run.seed,
    transports: run.transports,
    ...opt('deployments', run.deployments),
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.durationMs,
    // discovery and driver are the provider's own documents: kept as the provider wrote them.
    provider: {
      endpoint: provider.endpoint,
      embedded: provider.embedded,
      faults: provider.faults,
      discovery: provider.discovery,
      driver: provider.driver,
    },
    suites: run.suites.map((s) => ({ name: s.name, file: s.file, digest: s.digest, cases: s.cases })),
    filters: {
      suites: filters.suites,
      ...opt('grep', filters.grep),
      tags: filters.tags,
      ...opt('cases', filters.cases),
      ...(filters.shard === undefined ? {} : { shard: { index: filters.shard.index, total: filters.shard.total } }),
      ...opt('transport', filters.transport),
    },
    ...opt('limits', run.limits),
    ...opt('allowPrivateTargets', run.allowPrivateTargets),
    ...opt('timeoutMs', run.timeoutMs),
    ...opt('providerCa', run.providerCa),
    ...opt('bail', run.bail),
    ...(run.interrupted === undefined ? {} : { interrupted: { signal: run.interrupted.signal } }),
    node: run.node,
  };
}

const orderedSummary = (s: Summary): Summary => ({
  pass: s.pass,
  fail: s.fail,
  warn: s.warn,
  skip: s.skip,
  error: s.error,
  total: s.total,
  conformant: s.conformant,
});

function orderedCase(r: CaseResult): CaseResult {
  return {
    id: r.id,
    transport: r.transport,
    suite: r.suite,
    title: r.title,
    level: r.level,
    requirement: { id: r.requirement.id, quote: r.requirement.quote },
    tags: r.tags,
    outcome: r.outcome,
    message: r.message,
    ...opt('expected', r.expected),
    ...opt('actual', r.actual),
    ...opt('step', r.step),
    ...(r.limit === undefined ? {} : { limit: { name: r.limit.name, value: r.limit.value } }),
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    evidence: r.evidence.map(orderedEvidence),
    ...(r.baseline === undefined ? {} : { baseline: orderedCaseBaseline(r.baseline) }),
  };
}

const orderedVerdict = (v: BaselineVerdict): BaselineVerdict => ({
  file: v.file,
  date: v.date,
  entries: v.entries,
  matches: v.matches,
  departures: v.departures,
});

function orderedCaseBaseline(b: CaseBaseline): CaseBaseline {
  const e = b.entry;
  return {
    status: b.status,
    ...(e === undefined
      ? {}
      : { entry: { expected: e.expected, reason: e.reason, owner: e.owner, expires: e.expires, expired: e.expired } }),
  };
}

function orderedEvidence(e: EvidenceEntry): EvidenceEntry {
  switch (e.kind) {
    case 'frame':
      return {
        kind: e.kind,
        at: e.at,
        connection: e.connection,
        ...opt('login', e.login),
        direction: e.direction,
        binary: e.binary,
        bytes: e.bytes,
        text: e.text,
        ...opt('truncated', e.truncated),
      };
    case 'http':
      return {
        kind: e.kind,
        at: e.at,
        method: e.method,
        url: e.url,
        ...opt('status', e.status),
        ...opt('requestBody', e.requestBody),
        ...opt('responseBody', e.responseBody),
        ...opt('error', e.error),
        durationMs: e.durationMs,
      };
    case 'step':
      return { kind: e.kind, at: e.at, name: e.name };
    case 'note':
      return { kind: e.kind, at: e.at, text: e.text };
  }
}

/** `{ key: value }` when the value is present, `{}` otherwise (exactOptionalPropertyTypes). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
