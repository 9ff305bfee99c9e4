/**
 * `--last-failed`: the cases to run again from the newest report under the report folder root (the
 * one `latest.txt` names): those that failed or errored, and, when that run was interrupted, those
 * it never started. A missing or unreadable report is a usage error, not a run of nothing; a report
 * with nothing to run again is a green result, so a "rerun the failures" CI step stays green.
 */
import type { ChatTransport } from '../protocol/transport.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { CaseResult, Outcome } from '../core/model.js';
import { NOT_RUN_INTERRUPTED } from '../core/runner.js';
import { readRunReport } from '../reporters/read-report.js';
import { LATEST_FILE } from '../reporters/write.js';

const RERUN: Record<Outcome, (r: CaseResult) => boolean> = {
  fail: () => true,
  error: () => true,
  pass: () => false,
  warn: () => false,
  skip: (r) => r.message === NOT_RUN_INTERRUPTED,
};

export interface LastFailed {
  /** The ids to run again, in declaration order; empty when there is nothing to rerun. */
  readonly cases: readonly string[];
  /** The report.json they come from. */
  readonly file: string;
  /** The one transport all of them ran over, which the rerun keeps unless --transport says otherwise. */
  readonly transport?: ChatTransport;
}

export async function lastFailedCases(outDir: string): Promise<LastFailed> {
  let runId: string;
  try {
    runId = (await readFile(join(outDir, LATEST_FILE), 'utf8')).trim();
  } catch {
    throw new UsageError(`--last-failed: no earlier report under ${outDir} (no ${LATEST_FILE}); run once without it`);
  }
  const dir = join(outDir, runId);
  const report = await readRunReport(
    dir,
    '--last-failed: ',
    `the newest run, ${dir}, has no report.json; was the json reporter on?`,
  );
  const again = report.cases.filter((r) => RERUN[r.outcome](r));
  // Over the one transport they all ran on; cases to run again on several go over every declared one.
  const transports = new Set(again.map((r) => r.transport));
  const [only] = transports;
  return {
    cases: [...new Set(again.map((r) => r.id))],
    file: join(dir, 'report.json'),
    ...(transports.size === 1 && only !== undefined ? { transport: only } : {}),
  };
}
