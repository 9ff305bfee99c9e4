/** What the harness knows: its checks, the reference provider's faults, the profile, the suites. */
import { checkManifest } from '../checks/manifest.js';
import { SelectionError, UsageError } from '../core/errors.js';
import type { CaseSpec, Shard, SuiteSpec } from '../core/model.js';
import { loadProfile, type ProfileClause, type ProfileRequirement } from '../core/profile.js';
import { loadSuites } from '../core/suite-loader.js';
import { FAULTS, isFaultName, type FaultName } from '../reference-provider/faults.js';
import { didYouMean } from '../core/suggest.js';

export interface Catalogue {
  readonly requirements: readonly ProfileRequirement[];
  readonly suites: readonly SuiteSpec[];
}

export async function loadCatalogue(suiteDir?: string): Promise<Catalogue> {
  const requirements = await loadProfile();
  const suites = await loadSuites(
    {
      checks: checkManifest(),
      faults: new Set(Object.keys(FAULTS)),
      requirements: new Map(requirements.map((r) => [r.id, r.quote])),
      clauses: new Map(requirements.filter((r) => r.clauses.length > 0).map((r) => [r.id, r.clauses.length])),
      definitions: new Set(requirements.filter((r) => r.definition).map((r) => r.id)),
    },
    suiteDir,
  );
  return { requirements, suites };
}

export interface Selection {
  readonly suites: readonly string[];
  readonly grep?: string;
  readonly tags: readonly string[];
  /** Only these case ids (`--last-failed`). */
  readonly cases?: readonly string[];
  readonly shard?: Shard;
}

/** The cases a run selects, in declaration order; naming something that does not exist is an error. */
export function selectCases(catalogue: Catalogue, selection: Selection): CaseSpec[] {
  const known = new Set(catalogue.suites.map((s) => s.name));
  for (const s of selection.suites) {
    if (!known.has(s as never)) {
      throw new SelectionError(`unknown suite "${s}"${didYouMean(s, known)}; the suites are ${[...known].join(', ')}`);
    }
  }
  let cases = catalogue.suites
    .filter((s) => selection.suites.length === 0 || selection.suites.includes(s.name))
    .flatMap((s) => s.cases);
  if (selection.tags.length > 0) {
    const allTags = new Set(cases.flatMap((c) => c.tags));
    const unknown = selection.tags.filter((t) => !allTags.has(t));
    if (unknown.length > 0)
      throw new SelectionError(
        `no case has the tag ${unknown.map((t) => `"${t}"${didYouMean(t, allTags)}`).join(', ')}`,
      );
    cases = cases.filter((c) => selection.tags.some((t) => c.tags.includes(t)));
  }
  if (selection.grep !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(selection.grep);
    } catch (e) {
      throw new UsageError(`--grep "${selection.grep}" is not a valid regular expression: ${(e as Error).message}`);
    }
    cases = cases.filter((c) => re.test(c.id) || re.test(c.title));
    if (cases.length === 0) throw new SelectionError(`no case id or title matches --grep "${selection.grep}"`);
  }
  if (selection.cases !== undefined) {
    const all = new Set(catalogue.suites.flatMap((s) => s.cases.map((c) => c.id)));
    const unknown = selection.cases.filter((id) => !all.has(id));
    if (unknown.length > 0) throw new SelectionError(`no case has the id ${unknown.map((id) => `"${id}"`).join(', ')}`);
    const wanted = new Set(selection.cases);
    cases = cases.filter((c) => wanted.has(c.id));
  }
  if (cases.length === 0) throw new SelectionError('the selection holds no case');
  if (selection.shard !== undefined) cases = shardOf(cases, selection.shard);
  return cases;
}

/**
 * Every total-th case in declaration order, from the index-th: shards are disjoint, cover the
 * selection, differ in size by one at most, and mix the suites (a suite's slow cases spread out).
 */
export function shardOf(cases: readonly CaseSpec[], shard: Shard): CaseSpec[] {
  const mine = cases.filter((_, i) => i % shard.total === shard.index - 1);
  if (mine.length === 0)
    throw new SelectionError(
      `shard ${shard.index}/${shard.total} holds no case: the selection has only ${cases.length}`,
    );
  return mine;
}

/** The reference provider's faults by name; a name it does not know is refused, with the closest it does. */
export function checkFaultNames(names: readonly string[]): FaultName[] {
  const unknown = names.filter((f) => !isFaultName(f));
  if (unknown.length > 0) {
    const listed = unknown.map((f) => `"${f}"${didYouMean(f, Object.keys(FAULTS))}`).join(', ');
    throw new SelectionError(`unknown fault ${listed}; see \`interop-conformance list --faults\``);
  }
  return names as FaultName[];
}

/** A requirement no case cites, or one clause of it that no case names (`clause`). */
export type Uncovered = ProfileRequirement & {
  /** The clause, when the requirement marks clauses and only this one has no case. */
  readonly clause?: ProfileClause;
};

/**
 * What of the profile no case judges: each requirement that no case cites, and each marked clause
 * of a cited requirement that none of its cases names, in the profile's order. A definition puts
 * no obligation on the provider, so no case is due for it.
 */
export function uncovered(catalogue: Catalogue): Uncovered[] {
  const cases = catalogue.suites.flatMap((s) => s.cases);
  const cited = new Set(cases.map((c) => c.requirement.id));
  const named = new Set(cases.flatMap((c) => (c.clauses ?? []).map((k) => `${c.requirement.id} ${k}`)));
  return catalogue.requirements.flatMap((r): Uncovered[] => {
    if (r.definition) return [];
    if (!cited.has(r.id)) return [r];
    return r.clauses.filter((clause) => !named.has(`${r.id} ${clause.index}`)).map((clause) => ({ ...r, clause }));
  });
}
