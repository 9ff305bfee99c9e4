/**
 * The one place report files are written. A run folder appears whole or not at all: the files go
 * into a hidden temporary sibling, which is renamed into place (an atomic rename on one file
 * system). `latest.txt` then names the newest run folder; a plain file rather than a symlink,
 * because symlinks need privileges on Windows and do not survive every CI artifact upload.
 */
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { describeError, HarnessError, ReportError, UsageError } from '../core/errors.js';
import type { ReportFile } from './reporter.js';

export const LATEST_FILE = 'latest.txt';

/**
 * A run folder's name, sortable by start and unique: 2026-11-23T01-02-03.456Z-1a2b3c. To the
 * millisecond: runs a second apart or less (a rerun right after a short run) must still sort in
 * the order they started, or the newer would not take `latest.txt`.
 */
export function runId(started: number): string {
  return `${new Date(started).toISOString().replace(/:/g, '-')}-${randomUUID().slice(0, 6)}`;
}

/** Writes `files` into `${outDir}/${runId}/` and returns that folder's path. */
export async function writeReportFiles(outDir: string, runId: string, files: readonly ReportFile[]): Promise<string> {
  checkName('run id', runId);
  const seen = new Set<string>();
  for (const f of files) {
    checkName('report file name', f.name);
    if (seen.has(f.name)) throw new ReportError(`two report files are both named ${f.name}`);
    seen.add(f.name);
  }

  const target = join(outDir, runId);
  await makeFolders(outDir, (what) => new ReportError(`cannot create the report folder ${outDir}: ${what}`));
  if (await exists(target)) throw new ReportError(`the report folder ${target} already exists; not overwriting it`);

  let temp: string | undefined;
  try {
    temp = await mkdtemp(join(outDir, `.${runId}.partial-`));
    for (const f of files) await writeFile(join(temp, f.name), f.content, { encoding: 'utf8', flag: 'wx' });
    // rename() would replace an empty folder that appeared meanwhile; that is still a whole report.
    await rename(temp, target);
  } catch (e) {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw new ReportError(`cannot write the report to ${target}: ${describeError(e)}`, { cause: e });
  }

  await pointLatest(outDir, runId);
  return target;
}

/**
 * Makes sure `outDir` is a folder the harness can write a run folder into, creating it if need be,
 * before the first case runs: a run whose report cannot be written is refused at once (E_USAGE,
 * naming `flag`), not after every case has run.
 */
export async function checkReportRoot(outDir: string, flag = '--out'): Promise<void> {
  const refuse = (what: string): HarnessError => new UsageError(`${flag} ${outDir}: ${what}`);
  await makeFolders(outDir, refuse);
  let probe: string | undefined;
  try {
    probe = await mkdtemp(join(outDir, '.write-check-'));
  } catch (e) {
    throw refuse(`cannot write into it (${describeError(e)})`);
  } finally {
    if (probe !== undefined) await rm(probe, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * `mkdir -p`, one level at a time from the nearest folder that exists. Node's recursive mkdir
 * loops forever on a path it can never create, such as one under /proc; this fails with the reason.
 */
async function makeFolders(dir: string, refuse: (what: string) => HarnessError): Promise<void> {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    let isFolder: boolean;
    try {
      isFolder = (await stat(at)).isDirectory();
    } catch (e) {
      // ENOTDIR: a file further up, which the walk up names.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at)
        throw refuse(`cannot reach ${at} (${describeError(e)})`);
      missing.unshift(at);
      continue;
    }
    if (!isFolder) throw refuse(at === resolve(dir) ? 'not a folder' : `${at} is not a folder`);
    break;
  }
  for (const at of missing) {
    try {
      await mkdir(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw refuse(`cannot create ${at} (${describeError(e)})`);
    }
  }
}

/**
 * `latest.txt` holds the newest run folder's name and a newline. Run ids sort by start time, so an
 * older run finishing late does not take the pointer back. Best effort: the run folder is the
 * report, the pointer only a convenience, and a failure to move it must not fail a finished run.
 */
async function pointLatest(outDir: string, runId: string): Promise<void> {
  const file = join(outDir, LATEST_FILE);
  const current = await readFile(file, 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
  if (current > runId) return;
  const temp = join(outDir, `.${LATEST_FILE}.${process.pid}.${runId}`);
  try {
    await writeFile(temp, `${runId}\n`, 'utf8');
    await rename(temp, file);
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** A plain name inside one folder: no separators, no `.`/`..`, nothing hidden or reserved. */
function checkName(what: string, name: string): void {
  const ok =
    name.length > 0 &&
    basename(name) === name &&
    !/[/\\:*?"<>|\u0000-\u001f]/.test(name) &&
    !name.startsWith('.') &&
    name !== LATEST_FILE;
  if (!ok) throw new ReportError(`invalid ${what} ${JSON.stringify(name)}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
