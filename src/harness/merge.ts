/**
 * `merge-reports`: shard reports joined into one report, as if one run had held every case, and
 * written in the same formats. Shards must come from the same harness, profile and suite files;
 * a case in two shards is refused rather than silently kept once.
 */
import { UsageError } from '../core/errors.js';
import { caseName, deploymentsOf, summarize, type CaseResult, type RunMeta, type RunReport } from '../core/model.js';
import { Multiplexer } from '../reporters/multiplexer.js';
import type { Reporter } from '../reporters/reporter.js';
import { readRunReport } from '../reporters/read-report.js';
import { checkReportRoot, runId, writeReportFiles } from '../reporters/write.js';
import { loadCatalogue } from './catalogue.js';
import type { RunOutcome } from './run.js';

/**
 * The merged report: cases in declaration order; startedAt and finishedAt span every shard, and
 * durationMs is the longest shard's: shards run side by side (one per CI job), so that is the run's
 * wall time, where the span would also count the time between jobs that started apart.
 */
export async function mergeRunReports(
  parts: readonly { readonly dir: string; readonly report: RunReport }[],
): Promise<RunReport> {
  const first = parts[0];
  if (first === undefined) throw new UsageError('merge-reports needs at least one report folder');
  const owner = new Map<string, string>();
  for (const { dir, report } of parts) {
    for (const [what, mine, theirs] of [
      ['harness version', report.run.tool.version, first.report.run.tool.version],
      ['profile version', report.run.profileVersion, first.report.run.profileVersion],
    ] as const) {
      if (mine !== theirs)
        throw new UsageError(
          `${dir} was made with ${what} ${mine}, ${first.dir} with ${theirs}; merge reports of one harness and profile`,
        );
    }
    for (const s of report.run.suites) {
      const other = parts.flatMap((p) => p.report.run.suites).find((o) => o.name === s.name && o.digest !== s.digest);
      if (other)
        throw new UsageError(
          `${dir} ran another version of suite ${s.name} (sha256 ${s.digest.slice(0, 12)}… vs ${other.digest.slice(0, 12)}…)`,
        );
    }
    for (const r of report.cases) {
      const key = `${r.id} over ${r.transport}`;
      const seen = owner.get(key);
      if (seen !== undefined)
        throw new UsageError(
          `case ${caseName(r, report.run.transports)} is in both ${seen} and ${dir}; merge disjoint shards`,
        );
      owner.set(key, dir);
    }
  }
  checkOneWholeRun(parts);
  const catalogue = await loadCatalogue();
  const position = new Map(catalogue.suites.flatMap((s) => s.cases).map((c, i) => [c.id, i]));
  const lane = (r: CaseResult): number => first.report.run.transports.indexOf(r.transport);
  const cases: CaseResult[] = parts
    .flatMap((p) => p.report.cases)
    .map((r, i) => ({ r, i }))
    // Lane by lane, as one run would have held them, then in declaration order.
    .sort(
      (a, b) =>
        lane(a.r) - lane(b.r) || (position.get(a.r.id) ?? Infinity) - (position.get(b.r.id) ?? Infinity) || a.i - b.i,
    )
    // A shard's own baseline judgement does not carry over: the merged report is judged anew, or not.
    .map(({ r: { baseline: _judged, ...r } }) => r);
  const started = Math.min(...parts.map((p) => Date.parse(p.report.run.startedAt)));
  const finished = Math.max(...parts.map((p) => Date.parse(p.report.run.finishedAt)));
  const suiteNames = catalogue.suites
    .map((s) => s.name)
    .filter((name) => parts.some((p) => p.report.run.suites.some((s) => s.name === name)));
  const suites = suiteNames.map((name) => {
    const own = parts.flatMap((p) => p.report.run.suites).filter((s) => s.name === name);
    const base = own[0] as RunMeta['suites'][number];
    return { name, file: base.file, digest: base.digest, cases: own.reduce((sum, s) => sum + s.cases, 0) };
  });
  const { shard: _shard, ...filters } = first.report.run.filters;
  return {
    schemaVersion: 1,
    run: {
      ...first.report.run,
      // Named by when it was merged, so that it sorts after its shards under one --out and
      // latest.txt, which --last-failed reads, points at the whole run, not at a shard.
      id: runId(Date.now()),
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationMs: Math.max(...parts.map((p) => p.report.run.durationMs)),
      suites,
      filters,
    },
    summary: summarize(cases),
    cases,
  };
}

/**
 * What must be the same in every shard of one run, by name, so that a refusal says which field
 * differs. The embedded reference provider listens on a random port in each shard, so for it the
 * faults stand for the provider, not the endpoint.
 */
const SAME_IN_EVERY_SHARD: readonly (readonly [string, (r: RunReport) => unknown])[] = [
  ['provider', (r) => (r.run.provider.embedded ? 'the embedded reference provider' : r.run.provider.endpoint)],
  ['reference faults', (r) => r.run.provider.faults],
  ['deployments', (r) => deploymentsOf(r.run)],
  ['seed', (r) => r.run.seed],
  ['--transport', (r) => r.run.filters.transport ?? null],
  ['transports', (r) => r.run.transports],
  ['--suite', (r) => r.run.filters.suites],
  ['--tag', (r) => r.run.filters.tags],
  ['--grep', (r) => r.run.filters.grep ?? null],
  ['--last-failed cases', (r) => r.run.filters.cases ?? null],
  ['--limit', (r) => r.run.limits ?? {}],
  ['--timeout', (r) => r.run.timeoutMs ?? null],
];

/**
 * Shards of one run and all of them: one total, every index once, one provider and one selection,
 * none interrupted. A missing shard would otherwise merge into a report that reads as the whole run.
 */
function checkOneWholeRun(parts: readonly { readonly dir: string; readonly report: RunReport }[]): void {
  const first = parts[0] as (typeof parts)[number];
  const total = first.report.run.filters.shard?.total;
  for (const { dir, report } of parts) {
    const shard = report.run.filters.shard;
    if (shard === undefined || shard.total !== total) {
      throw new UsageError(
        `${dir} is ${shard ? `shard ${shard.index}/${shard.total}` : 'not a shard'}, ${first.dir} ${total === undefined ? 'is not a shard' : `one of ${total}`}; merge the shards of one run`,
      );
    }
    if (report.run.interrupted !== undefined) {
      throw new UsageError(
        `${dir} was interrupted (${report.run.interrupted.signal}) and holds no verdict; run shard ${shard.index}/${shard.total} again`,
      );
    }
    for (const [field, of] of SAME_IN_EVERY_SHARD) {
      const [mine, theirs] = [JSON.stringify(of(report)), JSON.stringify(of(first.report))];
      if (mine !== theirs)
        throw new UsageError(
          `${dir} differs from ${first.dir} in ${field}: ${mine} vs ${theirs}; merge the shards of one run`,
        );
    }
  }
  const given = new Set(parts.map((p) => p.report.run.filters.shard?.index));
  const missing = Array.from({ length: total ?? 0 }, (_, i) => i + 1).filter((i) => !given.has(i));
  if (missing.length > 0)
    throw new UsageError(
      `shard ${missing.join(', ')} of ${total} is missing; a merge of some shards would read as the whole run`,
    );
}

/** Reads, merges, reports and writes, as a run does. */
export async function mergeReports(
  dirs: readonly string[],
  reporters: readonly Reporter[],
  outDir: string,
  judge?: (report: RunReport) => Promise<RunReport>,
): Promise<RunOutcome> {
  const parts = [];
  for (const dir of dirs) parts.push({ dir, report: await readRunReport(dir) });
  const merged = await mergeRunReports(parts);
  const report = judge === undefined ? merged : await judge(merged);
  await checkReportRoot(outDir);
  const mux = new Multiplexer(reporters);
  const files = mux.onEnd(report);
  const dir = await writeReportFiles(outDir, report.run.id, files);
  return { report, dir, reporterProblems: mux.problems };
}
