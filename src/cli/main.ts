#!/usr/bin/env node
/**
 * The command line: parses argv, runs a command, maps the result to an exit code. The only place
 * that reads the environment or calls process.exit.
 */
import { readFileSync } from 'node:fs';
import { Command, Option, type CommanderError } from 'commander';
import { codeOf, describeError, isHarnessError } from '../core/errors.js';
import { projectFile } from '../core/paths.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import type { ListFlags } from './list.js';

const version = (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function program(): Command {
  const p = new Command('interop-conformance')
    .description('Conformance harness for messaging providers interoperating with a gatekeeper (EU DMA Art. 7)')
    .version(version)
    // The program's own options (-V, -h) come before the command, so a value after it, such as a
    // random token "-Vx3…", is that option's value and never the program's flag.
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => undefined });

  p.command('run')
    .description('run the suites against a provider endpoint (default: the embedded reference provider)')
    .option('--provider <url>', 'provider endpoint (base URL serving /.well-known/dma-interop)')
    .option('--token <token>', 'driver API bearer token (or INTEROP_CONFORMANCE_TOKEN)')
    .option('--suite <name>', 'run only this suite (repeatable, or comma-separated)', collect)
    .option('--grep <regex>', 'run only cases whose id or title matches')
    .option('--tag <tag>', 'run only cases with this tag (repeatable)', collect)
    .option('--out <dir>', 'report folder root (default: reports)')
    .option(
      '--reporter <list>',
      'reporters: console,json,junit,markdown,html (repeatable, or comma-separated; default: all)',
      collect,
    )
    .option('--color', 'colour the console output, even into a pipe (default: when a terminal, unless NO_COLOR)')
    .option('--no-color', 'never colour the console output')
    .option('--seed <n>', 'seed for generated inputs and case order')
    .option('--timeout <ms>', 'default per-case deadline in milliseconds; it bounds every driver call of the case')
    .option('--shard <i/n>', 'run the i-th of n deterministic shares of the selected cases')
    .option('--last-failed', 'run only the cases that failed, errored or never ran in the newest report under --out')
    .option('--bail', 'stop at the first MUST failure; the remaining cases are skipped')
    .option('--provider-ca <file>', "trust this CA (PEM) for the provider's HTTPS: a test deployment with its own")
    .option('--workers <n>', 'run suites side by side on n gatekeepers (1–16; default 2)')
    .option(
      '--transport <name>',
      'run over this chat transport only: xml-ws or noise-binary (default: every one the provider declares, in turn)',
    )
    .option('--baseline <file>', 'judge the run against a baseline of expected outcomes (schemas/baseline.schema.json)')
    .option(
      '--update-baseline <file>',
      "write a baseline that accepts this run's failures (keeps entries still accurate)",
    )
    .option('--official', 'run every case and write a signed certification package into the run folder')
    .option(
      '--signing-key <file>',
      'Ed25519 private key (PEM, PKCS#8) that signs the package; default: one generated for the run',
    )
    .option(
      '--limit <name=value>',
      'override a cap on what the provider may send, e.g. xml-depth=16 or http-request-ms=2s (repeatable; README lists them)',
      collect,
    )
    .option(
      '--allow-private-targets',
      'let media and server-to-server fetches reach loopback, private and link-local addresses (a local test)',
    )
    .addOption(
      new Option(
        '--reference-fault <fault>',
        'switch on a fault of the embedded reference provider (repeatable)',
      ).argParser(collect),
    )
    .option(
      '--reference-deployment <name>',
      'run the embedded reference provider direct (its clients connect themselves; the default) or behind its chat proxy: direct or proxy',
    )
    .action(async (flags: Record<string, unknown>) => {
      // Commands load on demand: `--version` and `--help` must not pay for libsignal and the suites.
      const { runCommand } = await import('./run.js');
      process.exitCode = await runCommand(flags, process.env, process.stdout, process.stderr);
    });

  p.command('merge-reports')
    .description('join the report folders of shards (run --shard i/n) into one report, in the same formats')
    .argument('<dirs...>', 'run folders holding report.json')
    .option('--out <dir>', 'report folder root (default: reports)')
    .option(
      '--reporter <list>',
      'reporters: console,json,junit,markdown,html (repeatable, or comma-separated; default: all)',
      collect,
    )
    .option('--color', 'colour the console output, even into a pipe')
    .option('--no-color', 'never colour the console output')
    .option('--baseline <file>', 'judge the merged report against a baseline of expected outcomes, as run does')
    .action(
      async (dirs: string[], flags: { out?: string; reporter?: string[]; baseline?: string; color?: boolean }) => {
        const { mergeCommand } = await import('./merge.js');
        process.exitCode = await mergeCommand(dirs, flags, process.env, process.stdout, process.stderr);
      },
    );

  p.command('verify-report')
    .description('check a certification package (run --official): every file, the manifest and the signature')
    .argument('<dir>', 'the package: an official run folder')
    .option('--public-key <file>', 'the Ed25519 public key (PEM) the package must be signed with')
    .action(async (dir: string, flags: { publicKey?: string }) => {
      const { verifyCommand } = await import('./verify.js');
      process.exitCode = await verifyCommand(dir, flags, process.stdout, process.stderr);
    });

  p.command('list')
    .description('list every case with its id, suite, level, requirement and faults')
    .option('--json', 'machine-readable output')
    .option(
      '--uncovered',
      'list the profile requirements that no case checks, and the marked clauses ([1], [2], …) that no case names',
    )
    .option('--faults', "list the reference provider's faults")
    .option('--suite <name>', "only this suite's cases (repeatable, or comma-separated)", collect)
    .option('--grep <regex>', 'only cases whose id or title matches')
    .option('--tag <tag>', 'only cases with this tag (repeatable)', collect)
    .action(async (flags: ListFlags) => {
      const { listCommand } = await import('./list.js');
      process.exitCode = await listCommand(flags, process.stdout);
    });

  p.command('reference-provider')
    .description('serve the reference provider on loopback for another harness run')
    .option('--port <n>', 'port on 127.0.0.1 (default: any free port)')
    .option('--token <token>', 'driver API bearer token (default: a random one, printed)')
    .option('--fault <fault>', 'switch on a fault (repeatable)', collect)
    .option('--ca-out <file>', 'write the CA of its HTTPS media host and server here, for run --provider-ca')
    .option(
      '--deployment <name>',
      'direct (its clients connect themselves; the default) or proxy (behind its chat proxy)',
    )
    .action(async (flags: { port?: string; token?: string; fault?: string[]; caOut?: string; deployment?: string }) => {
      const { referenceProviderCommand } = await import('./reference-provider.js');
      process.exitCode = await referenceProviderCommand(flags, process.stdout);
    });
  return p;
}

/** Commander's own errors (a bad flag, --help), by their code: `commander.unknownOption`, … */
const isCommanderError = (e: unknown): e is CommanderError => String(codeOf(e)).startsWith('commander.');

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (isCommanderError(e)) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        process.exitCode = EXIT.conformant;
        return;
      }
      process.stderr.write(`interop-conformance: ${e.message.replace(/^error: /, '')}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    const code = isHarnessError(e) ? EXIT_FOR[e.code] : EXIT.cannotRun;
    process.stderr.write(`interop-conformance: ${describeError(e)}\n`);
    process.exitCode = code;
  }
}

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

await main(process.argv);
