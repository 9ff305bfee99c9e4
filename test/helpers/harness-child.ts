/**
 * Runs the harness's CLI as a child process, the way a user runs it, and reports what a bench
 * needs to judge the run: exit code, output, wall time, the child's peak RSS and its report.json.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../../src/core/paths.js';

const cli = projectFile('dist', 'src', 'cli', 'main.js');
const preload = projectFile('dist', 'test', 'helpers', 'peak-rss.js');

export interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Peak resident set size of the harness, in KiB. */
  readonly peakRssKiB: number;
  /** The parsed report.json, when the run wrote one. */
  readonly report: unknown;
}

export interface ChildOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the child past this (a hung harness fails the bench instead of hanging it). */
  readonly killAfterMs: number;
  /** Called with each chunk of the child's stdout (to act mid-run). */
  readonly onStdout?: (text: string) => void;
}

export async function runHarnessChild(args: readonly string[], options: ChildOptions): Promise<ChildRun> {
  const dir = await mkdtemp(join(tmpdir(), 'hostile-'));
  const rssFile = join(dir, 'peak-rss');
  const out = join(dir, 'reports');
  const started = Date.now();
  try {
    const child = spawn(process.execPath, ['--import', preload, cli, ...args, '--out', out], {
      env: { ...process.env, NO_COLOR: '1', PEAK_RSS_FILE: rssFile, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(d.toString());
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    const peak = await readFile(rssFile, 'utf8').catch(() => '0');
    return { code, stdout, stderr, ms: Date.now() - started, peakRssKiB: Number(peak), report: await readReport(out) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readReport(out: string): Promise<unknown> {
  const dirs = await readdir(out).catch(() => [] as string[]);
  const run = dirs.find((d) => !d.startsWith('latest'));
  if (run === undefined) return undefined;
  return JSON.parse(await readFile(join(out, run, 'report.json'), 'utf8')) as unknown;
}
