/**
 * `--last-failed`: the cases that failed or errored in the newest report under the report folder
 * root (the one `latest.txt` names). A missing or unreadable report is a usage error, not a run
 * of nothing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, HarnessError } from '../core/errors.js';
import type { Outcome, RunReport } from '../core/model.js';
import { validateReport } from '../reporters/report-schema.js';
import { LATEST_FILE } from '../reporters/write.js';

const RERUN: Record<Outcome, boolean> = { fail: true, error: true, pass: false, warn: false, skip: false };

export async function lastFailedCases(outDir: string): Promise<string[]> {
  const bad = (what: string): HarnessError => new HarnessError('E_USAGE', `--last-failed: ${what}`);
  let runId: string;
  try {
    runId = (await readFile(join(outDir, LATEST_FILE), 'utf8')).trim();
  } catch {
    throw bad(`no earlier report under ${outDir} (no ${LATEST_FILE}); run once without it`);
  }
  const file = join(outDir, runId, 'report.json');
  let report: unknown;
  try {
    report = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw bad(`cannot read ${file} (${describeError(e)}); was the json reporter on?`);
  }
  const valid = validateReport(report);
  if (!valid.ok) throw bad(`${file}: ${valid.errors[0] ?? 'not a report'}`);
  const ids = (report as RunReport).cases.filter((r) => RERUN[r.outcome]).map((r) => r.id);
  if (ids.length === 0) throw bad(`nothing failed or errored in ${file}`);
  return ids;
}
