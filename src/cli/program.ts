/**
 * The command line as a function: argv and the streams it writes to in, an exit code out. The
 * process around it (the environment, the exit, the last-resort error handlers) is main.ts's; a
 * test runs the CLI through this, as a user would, without a process of its own for each run.
 */
import { readFileSync } from 'node:fs';
import { Command, Option, type CommanderError } from 'commander';
import { codeOf, describeError, isHarnessError } from '../core/errors.js';
import { projectFile } from '../core/paths.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import type { ListFlags } from './list.js';

/** What a command reads and writes besides its arguments: the environment and the two output streams. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WritableStream;
}

const version = (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string }).version;
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function program(io: CliIo, exit: { code: number }): Command {
  const p = new Command('interop-conformance')
    .description('Conformance harness for messaging providers interoperating with a gatekeeper (EU DMA Art. 7)')
    .version(version)
    // The program's own options (-V, -h) come before the command, so a value after it, such as a
    // random token "-Vx3…", is that option's value and never the program's flag.
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
    });

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
      'run the embedded reference provider in one deployment: direct (its clients connect themselves) or proxy (behind its chat proxy, every suite); by default both, the proxy suite behind the proxy',
    )
    .action(async (flags: Record<string, unknown>) => {
      // Commands load on demand: `--version` and `--help` must not pay for libsignal and the suites.
      const { runCommand } = await import('./run.js');
      exit.code = await runCommand(flags, io.env, io.stdout, io.stderr);
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
        exit.code = await mergeCommand(dirs, flags, io.env, io.stdout, io.stderr);
      },
    );

  p.command('verify-report')
    .description('check a certification package (run --official): every file, the manifest and the signature')
    .argument('<dir>', 'the package: an official run folder')
    .option('--public-key <file>', 'the Ed25519 public key (PEM) the package must be signed with')
    .action(async (dir: string, flags: { publicKey?: string }) => {
      const { verifyCommand } = await import('./verify.js');
      exit.code = await verifyCommand(dir, flags, io.stdout, io.stderr);
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
      exit.code = await listCommand(flags, io.stdout);
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
      exit.code = await referenceProviderCommand(flags, io.stdout);
    });
  return p;
}

/** Commander's own errors (a bad flag, --help), by their code: `commander.unknownOption`, … */
const isCommanderError = (e: unknown): e is CommanderError => String(codeOf(e)).startsWith('commander.');

/** Runs the command `args` names (argv without node and the script) and returns its exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const exit = { code: EXIT.conformant as number };
  try {
    await program(io, exit).parseAsync([...args], { from: 'user' });
    return exit.code;
  } catch (e) {
    if (isCommanderError(e)) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return EXIT.conformant;
      io.stderr.write(`interop-conformance: ${e.message.replace(/^error: /, '')}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[e.code] : EXIT.cannotRun;
  }
}
