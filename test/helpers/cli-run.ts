/**
 * The harness's CLI as a user runs it, for the tests that judge its exit code and output. `runCli`
 * runs program.ts's CLI in this process, with its own environment and output streams: the same
 * parsing, commands and exit codes as the binary, without a process start (about half a second
 * of module loading) per run. `spawnCli` runs the binary itself, for what only a process shows:
 * signals, a pipe, the exit code main.ts sets. The colour variables of the test's own environment
 * are cleared first, so that a `FORCE_COLOR` in a CI job cannot change what a test reads; `env`
 * sets them as the test needs.
 */
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { projectFile } from '../../src/core/paths.js';
import { runCli as runProgram } from '../../src/cli/program.js';

export const cli = projectFile('dist', 'src', 'cli', 'main.js');

export interface CliRun {
  /** null when the child was ended by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function environment(env: Env): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  delete clean['FORCE_COLOR'];
  delete clean['NO_COLOR'];
  return { ...clean, ...env };
}

/** A stream that keeps what is written to it, as a pipe would take it: not a terminal. */
function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * How long a command may take, in process or spawned, before its test fails naming it: a guard
 * against a hang, not a measure of speed. A default run takes some 75 s alone, and twice that with
 * the kill matrix's files beside it on two cores.
 */
const RUN_MS = 300_000;

export async function runCli(args: readonly string[], env: Env = { NO_COLOR: '1' }): Promise<CliRun> {
  const stdout = capture();
  const stderr = capture();
  let timer: NodeJS.Timeout | undefined;
  // A command that never ends (a server left listening, a wait on a signal) fails the test that
  // ran it, naming the command, instead of holding the test file until the runner gives up.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${args.join(' ')} still running after ${RUN_MS} ms`)), RUN_MS);
    timer.unref();
  });
  try {
    const code = await Promise.race([
      runProgram(args, {
        env: environment(env),
        stdout: stdout.stream as unknown as NodeJS.WriteStream,
        stderr: stderr.stream,
      }),
      timeout,
    ]);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    clearTimeout(timer);
  }
}

export async function spawnCli(args: readonly string[], env: Env = { NO_COLOR: '1' }): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      env: environment(env),
      timeout: RUN_MS,
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
