/**
 * Loads the suite files, validates them against schemas/suite.schema.json and against what the
 * harness knows (checks, faults, profile requirements), and reports the first problem with the
 * file, the case and the JSON path.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { ErrorObject } from 'ajv';
import { SuiteError } from './errors.js';
import type { CaseSpec, SuiteName, SuiteSpec } from './model.js';
import { compiledValidator, schemaValidator } from './json-schema.js';
import { projectFile } from './paths.js';

/** What a suite may name: checks with the JSON Schema of their params, faults, requirements. */
export interface SuiteCatalogue {
  readonly checks: ReadonlyMap<string, { readonly params: object }>;
  readonly faults: ReadonlySet<string>;
  /** The profile's requirements by id, each with the quote a case's report carries. */
  readonly requirements: ReadonlyMap<string, string>;
  /**
   * How many clauses each requirement marks (`[1] … [2] …`, docs/PROFILE.md); one absent marks
   * none. A case of a requirement that marks clauses names the ones it judges (`clauses`).
   */
  readonly clauses?: ReadonlyMap<string, number>;
  /** The requirements marked `*definition*`: they oblige the provider to nothing, so no case cites one. */
  readonly definitions?: ReadonlySet<string>;
}

interface RawSuite {
  suite: SuiteName;
  title: string;
  cases: (Omit<CaseSpec, 'suite' | 'requirement'> & { requirement: string })[];
}

export const defaultSuiteDir = (): string => projectFile('suites');

/** Every `*.json` in `dir`, in name order. */
export async function loadSuites(catalogue: SuiteCatalogue, dir = defaultSuiteDir()): Promise<SuiteSpec[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    throw new SuiteError(`cannot read the suite folder ${dir}`, { cause: e });
  }
  const suites: SuiteSpec[] = [];
  for (const name of names) suites.push(await loadSuiteFile(join(dir, name), catalogue));
  checkUnique(suites);
  return suites;
}

export async function loadSuiteFile(path: string, catalogue: SuiteCatalogue): Promise<SuiteSpec> {
  const file = displayPath(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SuiteError(`${file}: cannot read the file`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SuiteError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const validate = schemaValidator('suite.schema.json');
  if (!validate(raw)) {
    const err = validate.errors?.[0];
    throw new SuiteError(`${file}: ${locate(raw, err)}: ${describeAjvError(err)}`);
  }
  const suite = raw as RawSuite;
  const expectedName = basename(path, '.json');
  if (suite.suite !== expectedName) {
    throw new SuiteError(
      `${file} (/suite): declares suite "${suite.suite}", but the file is named ${expectedName}.json`,
    );
  }
  const cases = suite.cases.map((c, i): CaseSpec => {
    const where = `${file}: case ${c.id} (/cases/${i}`;
    if (!c.id.startsWith(`${suite.suite}.`)) throw new SuiteError(`${where}/id): id must start with "${suite.suite}."`);
    const check = catalogue.checks.get(c.check);
    if (!check) throw new SuiteError(`${where}/check): unknown check "${c.check}"`);
    // Read by the check as it stands, a misspelt or unknown param would quietly become the default.
    const validParams = compiledValidator(check.params);
    if (!validParams(c.params)) {
      const err = validParams.errors?.[0];
      throw new SuiteError(`${where}/params${err?.instancePath ?? ''}): ${describeAjvError(err)} (check ${c.check})`);
    }
    // Quoted from the profile, never copied: two cases of one requirement cannot quote it differently.
    const quote = catalogue.requirements.get(c.requirement);
    if (quote === undefined)
      throw new SuiteError(`${where}/requirement): "${c.requirement}" is not a requirement of docs/PROFILE.md`);
    if (catalogue.definitions?.has(c.requirement))
      throw new SuiteError(
        `${where}/requirement): ${c.requirement} is a definition in docs/PROFILE.md, which obliges the provider to nothing; cite the requirement that applies it`,
      );
    checkClauses(c.requirement, c.clauses, catalogue.clauses?.get(c.requirement) ?? 0, where);
    // A pq case that does not need pq would run against a classic-only provider and fail it, not skip.
    if (c.params['mode'] === 'pq' && !c.needs.includes('pq'))
      throw new SuiteError(`${where}/needs): a case in mode "pq" must need "pq"`);
    c.faults.forEach((f, j) => {
      if (!catalogue.faults.has(f.name)) throw new SuiteError(`${where}/faults/${j}/name): unknown fault "${f.name}"`);
    });
    return { ...c, requirement: { id: c.requirement, quote }, suite: suite.suite };
  });
  const digest = createHash('sha256').update(text).digest('hex');
  return { name: suite.suite, title: suite.title, file, digest, cases };
}

/**
 * A case of a requirement that marks clauses names the ones it judges, each one the requirement
 * marks; a case of a requirement that marks none names none (the requirement is one clause).
 */
function checkClauses(requirement: string, named: readonly number[] | undefined, marked: number, where: string): void {
  if (named === undefined) {
    if (marked > 0)
      throw new SuiteError(
        `${where}/clauses): ${requirement} marks clauses [1] to [${marked}] in docs/PROFILE.md; name the ones this case judges`,
      );
    return;
  }
  if (marked === 0)
    throw new SuiteError(`${where}/clauses): ${requirement} marks no clauses in docs/PROFILE.md, so a case names none`);
  const unknown = named.filter((k) => k > marked);
  if (unknown.length > 0)
    throw new SuiteError(
      `${where}/clauses): ${requirement} marks clauses [1] to [${marked}] in docs/PROFILE.md, not ${unknown.map((k) => `[${k}]`).join(', ')}`,
    );
}

function checkUnique(suites: readonly SuiteSpec[]): void {
  const seen = new Map<string, string>();
  for (const s of suites) {
    for (const c of s.cases) {
      const other = seen.get(c.id);
      if (other) throw new SuiteError(`${s.file}: case ${c.id}: id already used in ${other}`);
      seen.set(c.id, s.file);
    }
  }
}

/** "case X (/cases/3/level)" when the error is inside a case, else the bare path. */
function locate(raw: unknown, err: ErrorObject | undefined): string {
  const path = err?.instancePath || '/';
  const m = /^\/cases\/(\d+)/.exec(path);
  if (!m?.[1]) return `(${path})`;
  const c = (raw as { cases?: { id?: unknown }[] }).cases?.[Number(m[1])];
  const id = typeof c?.id === 'string' ? c.id : `#${m[1]}`;
  return `case ${id} (${path})`;
}

function describeAjvError(err: ErrorObject | undefined): string {
  if (!err) return 'invalid';
  const p = err.params as Record<string, unknown>;
  if (err.keyword === 'additionalProperties') return `unknown property "${String(p['additionalProperty'])}"`;
  if (err.keyword === 'required') return `missing property "${String(p['missingProperty'])}"`;
  if (err.keyword === 'enum') return `${err.message ?? 'invalid'}: ${(p['allowedValues'] as unknown[]).join(', ')}`;
  return err.message ?? 'invalid';
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
