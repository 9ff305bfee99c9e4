#!/usr/bin/env node
/**
 * `npm run planted-bugs`: how many realistic provider bugs the default run catches. Each bug of the
 * bank (test/planted-bugs/*.json) is a hand-written edit of the built reference provider that no
 * fault of faults.ts made when it was written; one that a case was then added for, with a fault
 * that makes it, says so (`becameFault`) and is planted only when named. Each is planted in its own copy of dist/src, and the copy's default run
 * (every suite, both transports, both deployments, --bail) gives its verdict:
 *   caught  a case failed: a provider with this bug is told so;
 *   warned  only SHOULD cases failed;
 *   errored no case failed but some errored: the harness could not say the provider was wrong;
 *   missed  every case passed.
 * A change the profile allows (`conformant`, with the words that allow it) is in the bank too, the
 * other way round: its run must pass (`passes`), and a case that fails it is `over-strict`, a
 * verdict a correct provider would get; a warning or an error is reported as such.
 * The mutation sweep (`npm run mutation`) plants machine-made bugs; this bank holds the bugs
 * engineers ship, and a clean copy runs first as the control. Outside `npm test`: about 20 s a bug.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CaseResult, Outcome } from '../src/core/model.js';
import { projectRoot } from '../src/protocol/project-root.js';
import { readRunReport } from '../src/reporters/read-report.js';
import { LATEST_FILE } from '../src/reporters/write.js';

interface PlantedEdit {
  /** The built module, relative to dist/src. */
  readonly file: string;
  /** Text that occurs exactly once in the module (after the bug's earlier edits of it). */
  readonly find: string;
  readonly replace: string;
}

export interface PlantedBug {
  readonly id: string;
  /** Which kind of blind spot of issue 17's list the bug belongs to. */
  readonly blindSpot: string;
  readonly bug: string;
  /** Set for a change that is no bug by the profile: the requirement's words that allow it. */
  readonly conformant?: string;
  /**
   * The fault that now makes this bug, once a case was added for it: the kill matrix holds it from
   * then on, and the measurement plants it only when asked by name.
   */
  readonly becameFault?: string;
  readonly edits: readonly PlantedEdit[];
}

const BANK_DIR = 'test/planted-bugs';

/** A bug and the bank file it is in (its name without `.json`): a batch is measured as a whole. */
export interface BankedBug extends PlantedBug {
  readonly bank: string;
}

export async function loadBank(): Promise<BankedBug[]> {
  const dir = join(projectRoot(), BANK_DIR);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const bugs: BankedBug[] = [];
  for (const f of files) {
    const bank = f.slice(0, -'.json'.length);
    for (const bug of JSON.parse(await readFile(join(dir, f), 'utf8')) as PlantedBug[]) bugs.push({ ...bug, bank });
  }
  return bugs;
}

/** The bug's modules as it leaves them, by file; throws where a `find` is absent or not unique. */
export async function plantedSources(bug: PlantedBug, distSrc: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const edit of bug.edits) {
    const text = out.get(edit.file) ?? (await readFile(join(distSrc, edit.file), 'utf8'));
    const at = text.indexOf(edit.find);
    if (at < 0) throw new Error(`${bug.id}: ${edit.file} no longer holds ${JSON.stringify(edit.find.slice(0, 60))}`);
    if (text.indexOf(edit.find, at + 1) >= 0) {
      throw new Error(`${bug.id}: ${edit.file} holds ${JSON.stringify(edit.find.slice(0, 60))} more than once`);
    }
    out.set(edit.file, text.slice(0, at) + edit.replace + text.slice(at + edit.find.length));
  }
  return out;
}

type Verdict = 'caught' | 'warned' | 'errored' | 'missed' | 'passes' | 'over-strict' | 'broken';

interface Result {
  readonly id: string;
  readonly blindSpot: string;
  readonly verdict: Verdict;
  /** The first failing case, or the reason the run gave no report. */
  readonly by?: string;
  readonly seconds: number;
}

/** What a run reads besides its code; copied, like dist/src, so that a build or a merge during the measurement changes nothing. */
const SHIPPED = ['package.json', 'suites', 'schemas', 'proto', 'docs', 'fixtures'];

/** The project as the measurement found it: every bug's copy is made from this one. */
async function snapshot(root: string, base: string): Promise<void> {
  await rm(base, { recursive: true, force: true });
  await mkdir(join(base, 'dist'), { recursive: true });
  for (const name of SHIPPED) await cp(join(root, name), join(base, name), { recursive: true });
  await cp(join(root, 'dist', 'src'), join(base, 'dist', 'src'), { recursive: true });
}

/** A copy of the snapshot whose dist/src holds `modules` (a bug's, by file); its packages are the project's. */
async function plantedCopy(root: string, base: string, modules: ReadonlyMap<string, string>, where: string) {
  await rm(where, { recursive: true, force: true });
  await cp(base, where, { recursive: true });
  await symlink(join(root, 'node_modules'), join(where, 'node_modules'));
  for (const [file, text] of modules) await writeFile(join(where, 'dist', 'src', file), text);
}

async function runCopy(
  where: string,
  seed: number,
  timeoutMs: number,
): Promise<{ cases?: readonly CaseResult[]; why?: string }> {
  const out = join(where, 'reports');
  const args = ['dist/src/cli/main.js', 'run', '--bail', '--reporter', 'json', '--out', out, '--seed', String(seed)];
  const child = spawn(process.execPath, args, { cwd: where, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  try {
    const runId = (await readFile(join(out, LATEST_FILE), 'utf8')).trim();
    return { cases: (await readRunReport(join(out, runId))).cases };
  } catch {
    const last = stderr.trim().split('\n').at(-1) ?? '';
    return { why: code === null ? `killed after ${timeoutMs} ms` : `exit ${code}, no report: ${last}` };
  }
}

function judge(cases: readonly CaseResult[]): { verdict: Verdict; by?: string } {
  const first = (outcome: Outcome) => cases.find((c) => c.outcome === outcome);
  const named = (c: CaseResult) => `${c.id} [${c.transport ?? '?'}]: ${(c.message ?? '').slice(0, 160)}`;
  const fail = first('fail');
  if (fail) return { verdict: 'caught', by: named(fail) };
  const warn = first('warn');
  if (warn) return { verdict: 'warned', by: named(warn) };
  const error = first('error');
  if (error) return { verdict: 'errored', by: named(error) };
  return { verdict: 'missed' };
}

async function plantAndRun(
  root: string,
  base: string,
  bug: PlantedBug | undefined,
  modules: ReadonlyMap<string, string>,
  seed: number,
  timeoutMs: number,
): Promise<Result> {
  const id = bug?.id ?? 'control';
  const where = join(root, '.planted', id);
  const started = Date.now();
  try {
    await plantedCopy(root, base, modules, where);
    const run = await runCopy(where, seed, timeoutMs);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const blindSpot = bug?.blindSpot ?? '-';
    if (!run.cases) return { id, blindSpot, verdict: 'broken', by: run.why ?? '', seconds };
    const judged = judge(run.cases);
    if (bug?.conformant === undefined) return { id, blindSpot, ...judged, seconds };
    // A warning or an error is no verdict against it; only a failure is one a correct provider gets.
    const verdict =
      judged.verdict === 'missed' ? 'passes' : judged.verdict === 'caught' ? 'over-strict' : judged.verdict;
    return { id, blindSpot, ...judged, verdict, seconds };
  } finally {
    await rm(where, { recursive: true, force: true });
  }
}

const USAGE = `usage: npm run planted-bugs -- [--only id,id | --bank name] [--jobs N] [--seed N]
  --only   the bugs to plant, comma-separated ids (default: the bank but the bugs that became faults)
  --bank   the bugs of one bank file (test/planted-bugs/<name>.json) but those that became faults:
           a batch written blind is measured without reading its ids
  --jobs   bugs run side by side (default: the machine's cores)
  --seed   the runs' seed (default 20261207)
`;

async function main(): Promise<void> {
  let values: { only?: string; bank?: string; jobs?: string; seed?: string; help?: boolean };
  try {
    values = parseArgs({
      options: {
        only: { type: 'string' },
        bank: { type: 'string' },
        jobs: { type: 'string', default: String(availableParallelism()) },
        seed: { type: 'string', default: '20261207' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`planted-bugs: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) return void process.stdout.write(USAGE);
  const jobs = Number(values.jobs);
  const seed = Number(values.seed);
  if (!Number.isInteger(jobs) || jobs < 1 || !Number.isInteger(seed)) {
    process.stderr.write(`planted-bugs: --jobs and --seed take integers\n${USAGE}`);
    process.exit(2);
  }
  const root = projectRoot();
  const bank = await loadBank();
  const only = values.only?.split(',').filter(Boolean);
  const unknown = only?.filter((id) => !bank.some((b) => b.id === id)) ?? [];
  if (unknown.length) {
    process.stderr.write(`planted-bugs: no bug named ${unknown.join(', ')} in ${BANK_DIR}\n`);
    process.exit(2);
  }
  if (values.bank !== undefined && (only || !bank.some((b) => b.bank === values.bank))) {
    const banks = [...new Set(bank.map((b) => b.bank))].join(', ');
    process.stderr.write(
      only
        ? 'planted-bugs: --only and --bank exclude each other\n'
        : `planted-bugs: no bank ${values.bank} (${banks})\n`,
    );
    process.exit(2);
  }
  const bugs = only
    ? bank.filter((b) => only.includes(b.id))
    : bank.filter((b) => b.becameFault === undefined && (values.bank === undefined || b.bank === values.bank));
  const base = join(root, '.planted', '.base');
  await snapshot(root, base);
  // Every bug must still plant before any runs: a bank gone stale is a finding of its own.
  const modules = new Map<string, ReadonlyMap<string, string>>();
  for (const bug of bugs) modules.set(bug.id, await plantedSources(bug, join(base, 'dist', 'src')));
  const timeoutMs = 300_000;
  const faults = only
    ? 0
    : bank.filter((b) => b.becameFault !== undefined && b.bank === (values.bank ?? b.bank)).length;
  process.stdout.write(
    `seed ${seed}, ${bugs.length} bugs, ${jobs} at a time${faults ? ` (${faults} more became faults: the kill matrix holds them)` : ''}\n`,
  );

  const control = await plantAndRun(root, base, undefined, new Map(), seed, timeoutMs);
  if (control.verdict !== 'missed') {
    process.stderr.write(`planted-bugs: the clean copy did not pass (${control.verdict}: ${control.by ?? ''})\n`);
    process.exit(1);
  }
  process.stdout.write(`control  clean copy passes (${control.seconds} s)\n`);

  const results: Result[] = [];
  const queue = [...bugs];
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let bug = queue.shift(); bug; bug = queue.shift()) {
        const r = await plantAndRun(root, base, bug, modules.get(bug.id) ?? new Map(), seed, timeoutMs);
        results.push(r);
        process.stdout.write(`${r.verdict.padEnd(8)} ${r.id} (${r.seconds} s)${r.by ? `\n         ${r.by}` : ''}\n`);
      }
    }),
  );

  await rm(base, { recursive: true, force: true });
  const count = (v: Verdict, of = results) => of.filter((r) => r.verdict === v).length;
  const conformant = new Set(bugs.filter((b) => b.conformant !== undefined).map((b) => b.id));
  const planted = results.filter((r) => !conformant.has(r.id));
  const spots = [...new Set(planted.map((r) => r.blindSpot))].sort();
  if (planted.length > 0) {
    process.stdout.write('\nblind spot        bugs  caught  warned  errored  missed  broken\n');
    for (const spot of [...spots, 'all']) {
      const of = spot === 'all' ? planted : planted.filter((r) => r.blindSpot === spot);
      const cells = (['caught', 'warned', 'errored', 'missed', 'broken'] as const).map((v) =>
        String(count(v, of)).padStart(6),
      );
      process.stdout.write(`${spot.padEnd(16)} ${String(of.length).padStart(5)}  ${cells.join('  ')}\n`);
    }
    const caught = count('caught', planted);
    process.stdout.write(
      `\n${caught} of ${planted.length} bugs caught with a failure (${Math.round((100 * caught) / Math.max(1, planted.length))}%)\n`,
    );
  }
  if (conformant.size > 0)
    process.stdout.write(
      `${count('passes')} of ${conformant.size} changes the profile allows pass; ${count('over-strict')} over-strict\n`,
    );
  const file = join(root, 'reports', 'planted-bugs', `${new Date().toISOString().replace(/:/g, '-')}.json`);
  await mkdir(join(root, 'reports', 'planted-bugs'), { recursive: true });
  await writeFile(
    file,
    `${JSON.stringify({ seed, results: results.sort((a, b) => a.id.localeCompare(b.id)) }, null, 2)}\n`,
  );
  process.stdout.write(`written to ${file}\n`);
  if (count('broken') || count('over-strict')) process.exit(1);
}

if (process.argv[1]?.endsWith('planted-bugs.js')) await main();
