/** A run's report.json read back (merge-reports, --last-failed): parsed and held to its schema. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, HarnessError, UsageError } from '../core/errors.js';
import type { RunReport } from '../core/model.js';
import { validateReport } from './report-schema.js';

/**
 * The report in `dir`; anything unreadable or off the schema is a usage error naming the file,
 * after `context` when given, and with `ifMissing` when there is no report.json at all.
 */
export async function readRunReport(dir: string, context = '', ifMissing?: string): Promise<RunReport> {
  const file = join(dir, 'report.json');
  const bad = (what: string): HarnessError => new UsageError(`${context}${what}`);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    if (ifMissing !== undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') throw bad(ifMissing);
    throw bad(`cannot read the report ${file}: ${describeError(e)}`);
  }
  const valid = validateReport(value);
  if (!valid.ok) throw bad(`${file}: ${valid.errors[0] ?? 'not a report'}`);
  return value as RunReport;
}
