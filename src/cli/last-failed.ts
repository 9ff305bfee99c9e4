/**
 * `--last-failed`: the cases that failed or errored in the newest report under the report folder
 * root (the one `latest.txt` names). A missing or unreadable report is a usage error, not a run
 * of nothing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../core/errors.js';
import type { Outcome } from '../core/model.js';
import { readRunReport } from '../reporters/read-report.js';
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
  const dir = join(outDir, runId);
  const report = await readRunReport(dir, '--last-failed: ', `the newest run, ${dir}, has no report.json; was the json reporter on?`);
  const ids = report.cases.filter((r) => RERUN[r.outcome]).map((r) => r.id);
  if (ids.length === 0) throw bad(`nothing failed or errored in ${join(dir, 'report.json')}`);
  return ids;
}
