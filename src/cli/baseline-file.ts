/**
 * Reading and writing a baseline file (schemas/baseline.schema.json). A bad file is a usage error
 * of one line that names the file and the JSON path, found before any case runs.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Baseline } from '../core/baseline.js';
import { describeError, HarnessError, ReportError, UsageError } from '../core/errors.js';
import { describeSchemaErrors, schemaValidator } from '../core/json-schema.js';

export const BASELINE_SCHEMA = 'baseline.schema.json';

const bad = (path: string, what: string): HarnessError => new UsageError(`baseline ${path}: ${what}`);

export async function readBaseline(path: string): Promise<Baseline> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    throw bad(path, `cannot read it (${describeError(e)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    throw bad(path, `not JSON (${describeError(e)})`);
  }
  const validate = schemaValidator(BASELINE_SCHEMA);
  if (!validate(value)) throw bad(path, describeSchemaErrors(validate.errors)[0] ?? 'does not match its schema');
  const baseline = value as Baseline;
  const seen = new Map<string, number>();
  baseline.entries.forEach((e, i) => {
    const first = seen.get(e.case);
    if (first !== undefined) throw bad(path, `/entries/${i}/case repeats "${e.case}" of /entries/${first}`);
    seen.set(e.case, i);
  });
  return baseline;
}

/** Optional: `--update-baseline` may create the file. */
export async function readBaselineIfAny(path: string): Promise<Baseline | undefined> {
  try {
    await readFile(path);
  } catch {
    return undefined;
  }
  return readBaseline(path);
}

/** Whole or not at all: a temporary sibling renamed over the file. */
export async function writeBaseline(path: string, baseline: Baseline): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  try {
    await writeFile(temp, `${JSON.stringify(baseline, null, 2)}\n`, { encoding: 'utf8', flag: 'w' });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new ReportError(`cannot write the baseline ${path}: ${describeError(e)}`, { cause: e });
  }
}
