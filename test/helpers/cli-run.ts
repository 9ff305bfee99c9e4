/**
 * The harness's CLI as a child process, as a user runs it, for the tests that judge its exit code
 * and output. The colour variables of the test's own environment are cleared first, so that a
 * `FORCE_COLOR` in a CI job cannot change what a test reads; `env` sets them as the test needs.
 */
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { projectFile } from '../../src/core/paths.js';

export const cli = projectFile('dist', 'src', 'cli', 'main.js');

export interface CliRun {
  /** null when the child was ended by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = { NO_COLOR: '1' },
): Promise<CliRun> {
  const clean = { ...process.env };
  delete clean['FORCE_COLOR'];
  delete clean['NO_COLOR'];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      env: { ...clean, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A usage error or a refusal is one line, with no stack trace. */
export function assertOneLine(s: string): void {
  assert.equal(s.trim().split('\n').length, 1, `expected one line, got:\n${s}`);
  assert.doesNotMatch(s, /\n\s+at /, 'no stack trace');
}
