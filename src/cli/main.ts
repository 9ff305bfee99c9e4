#!/usr/bin/env node
/**
 * The command line's process: runs program.ts's CLI on this process's argv, environment and
 * streams, and maps what no part of the harness caught to an exit code. The only place that calls
 * process.exit but for a second stop signal (run.ts).
 */
import { describeError } from '../core/errors.js';
import { EXIT } from './exit-codes.js';
import { runCli } from './program.js';

/**
 * The last line of defence: an error no part of the harness caught (a socket of a hostile peer
 * without a listener, say) is a harness that could not run, exit 3 with one line, never Node's
 * default exit 1, which would read as "not conformant" to a CI gate.
 */
function crashed(e: unknown): void {
  process.stderr.write(`interop-conformance: internal error, the run was abandoned: ${describeError(e)}\n`);
  process.exit(EXIT.cannotRun);
}
process.on('uncaughtException', crashed);
// A reader that leaves early (`list | head`) is not a harness failure: the rest is not shown, and a run goes on to its report.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') crashed(e);
});
process.on('unhandledRejection', crashed);

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
