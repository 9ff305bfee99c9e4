/**
 * What a person and a CI job rely on in a run, through the real CLI and its report.json: an
 * interrupted run has no verdict, the headline is what the exit code follows, the printed re-run
 * command repeats the run, a run that cannot write its report is refused before its first case,
 * the README's CI steps survive a run that wrote nothing, and the flags behave as conventions say.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { useColor } from '../src/cli/color.js';
import type { RunReport } from '../src/core/model.js';
import { projectFile } from '../src/core/paths.js';
import { loadCatalogue } from '../src/harness/catalogue.js';
import { startReferenceProvider } from '../src/reference-provider/provider.js';
import { validateReport } from '../src/reporters/report-schema.js';
import { cli, runCli as run, assertOneLine as oneLine, type CliRun as Ran } from './helpers/cli-run.js';

/**
 * One fast failing case, over one transport: the reference provider's client states no interop
 * version, which the case sees in its login at once (a fault the case waits out, such as no-ack,
 * would cost every run here the wait for an answer).
 */
const FAILING = [
  '--reference-fault',
  'omit-interop-version',
  '--grep',
  '^stanza\\.frame\\.interop-version$',
  '--transport',
  'xml-ws',
  '--seed',
  '5',
];
const PASSING = ['--grep', '^stanza\\.frame\\.interop-version$', '--transport', 'xml-ws', '--seed', '5'];
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'run-experience-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function latest(out: string): Promise<{ dir: string; report: RunReport }> {
  const id = (await readFile(join(out, 'latest.txt'), 'utf8')).trim();
  const dir = join(out, id);
  return { dir, report: JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport };
}

/** A run stopped by `signal` once its first case is reported. */
async function interrupted(signal: 'SIGINT' | 'SIGTERM', out: string): Promise<Ran> {
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      '--suite',
      'stanza',
      '--workers',
      '1',
      '--seed',
      '11',
      '--reporter',
      'console,json,markdown',
      '--out',
      out,
    ],
    {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!sent && /^\s+(PASS|FAIL|WARN|SKIP|ERROR)\s/m.test(stdout)) {
      sent = true;
      child.kill(signal);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

void test('a run stopped by Ctrl-C or SIGTERM exits 130 or 143 with a report marked interrupted and no verdict; --last-failed runs what it never ran', async () => {
  const out = join(root, 'interrupted');
  // A case runs once per transport it applies to: the run goes over both the reference provider declares.
  const stanzaCases = (await loadCatalogue()).suites
    .find((s) => s.name === 'stanza')
    ?.cases.reduce((n, c) => n + (c.transports?.length ?? 2), 0);
  for (const [signal, exit] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const r = await interrupted(signal, out);
    assert.equal(r.code, exit, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /^(NOT )?CONFORMANT/m, 'an interrupted run prints no verdict');
    assert.match(
      r.stdout,
      new RegExp(`^INTERRUPTED by ${signal}: \\d+ of ${stanzaCases} cases ran, \\d+ not run; no verdict$`, 'm'),
    );
    const { dir, report } = await latest(out);
    assert.deepEqual(validateReport(report), { ok: true });
    assert.deepEqual(report.run.interrupted, { signal });
    assert.equal(report.summary.conformant, null);
    assert.ok(
      report.cases.some((c) => c.outcome === 'skip' && /interrupted before this case/.test(c.message)),
      'cases not run are in the report',
    );
    assert.match(
      await readFile(join(dir, 'summary.md'), 'utf8'),
      new RegExp(`^## interop-conformance: INTERRUPTED by ${signal}`),
    );
  }
  const { report: stopped } = await latest(out);
  const unfinished = stopped.cases
    .filter(
      (c) =>
        c.outcome === 'fail' ||
        c.outcome === 'error' ||
        (c.outcome === 'skip' && /interrupted before this case/.test(c.message)),
    )
    .map((c) => `${c.id} over ${c.transport}`);
  const again = await run(['run', '--last-failed', '--reporter', 'json', '--out', out]);
  assert.ok(again.code === 0 || again.code === 1, again.stdout + again.stderr);
  const { report: rerun } = await latest(out);
  const ids = (keys: readonly string[]): string[] => [...new Set(keys.map((k) => k.split(' over ')[0] ?? ''))];
  assert.deepEqual(
    rerun.run.filters.cases,
    ids(unfinished),
    '--last-failed takes the failures and the cases never run',
  );
  // Stopped in its first lane, the run left cases on both transports: the rerun goes over both.
  const reran = rerun.cases.map((c) => `${c.id} over ${c.transport}`);
  for (const key of unfinished) assert.ok(reran.includes(key), `${key} runs again`);
  // The same cases; a case unfinished in one lane runs again in every lane it applies to, so the order may differ.
  assert.deepEqual(ids(reran).sort(), ids(unfinished).sort());
  assert.notEqual(rerun.summary.conformant, null);
});

void test("under a baseline, the headline is the judgement the exit code follows, with the run's own conformance beside it", async () => {
  const file = join(root, 'baseline.json');
  const entry = (expires: string): object => ({
    case: 'stanza.frame.interop-version',
    expected: 'fail',
    reason: 'ticket 1',
    owner: 'team',
    expires,
  });
  await writeFile(file, JSON.stringify({ schemaVersion: 1, entries: [entry('2999-12-31')] }));
  const matched = await run([
    'run',
    ...FAILING,
    '--reporter',
    'console',
    '--out',
    join(root, 'gate'),
    '--baseline',
    file,
  ]);
  assert.equal(matched.code, 0, matched.stdout + matched.stderr);
  assert.match(matched.stdout, /^MATCHES THE BASELINE \(the run itself: NOT CONFORMANT: 1 failed, 0 errored/m);
  assert.doesNotMatch(matched.stdout, /^NOT CONFORMANT/m);

  await writeFile(file, JSON.stringify({ schemaVersion: 1, entries: [entry('2001-01-01')] }));
  const expired = await run(['run', ...FAILING, '--reporter', 'json', '--out', join(root, 'gate'), '--baseline', file]);
  assert.equal(expired.code, 1, expired.stdout + expired.stderr);
  assert.match(
    expired.stdout,
    /^DEPARTS FROM THE BASELINE: 1 departure \(the run itself: NOT CONFORMANT/m,
    'the verdict line prints without the console reporter too',
  );

  const passing = await run([
    'run',
    ...PASSING,
    '--reporter',
    'json,markdown',
    '--out',
    join(root, 'gate'),
    '--baseline',
    file,
  ]);
  assert.equal(passing.code, 1, passing.stdout + passing.stderr);
  assert.match(passing.stdout, /^DEPARTS FROM THE BASELINE: 2 departures \(the run itself: CONFORMANT\)$/m);
  const { dir } = await latest(join(root, 'gate'));
  assert.match(
    await readFile(join(dir, 'summary.md'), 'utf8'),
    /^## interop-conformance: DEPARTS FROM THE BASELINE: 2 departures \(the run itself: CONFORMANT\)$/m,
  );
});

void test("a baseline entry for a case that does not exist is refused before any case runs; README's example names a real case", async () => {
  const file = join(root, 'typo.json');
  const entries = [
    { case: 'stanza.ack.message', expected: 'fail', reason: 'r', owner: 'o', expires: '2999-12-31' },
    { case: 'stanza.ack.mesage', expected: 'fail', reason: 'r', owner: 'o', expires: '2999-12-31' },
  ];
  await writeFile(file, JSON.stringify({ schemaVersion: 1, entries }));
  const r = await run(['run', ...FAILING, '--out', join(root, 'never'), '--baseline', file]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  oneLine(r.stderr);
  assert.ok(
    r.stderr.includes(
      `baseline ${file}: /entries/1/case "stanza.ack.mesage" is no case of this harness (did you mean "stanza.ack.message"?)`,
    ),
    r.stderr,
  );
  await assert.rejects(readdir(join(root, 'never')), 'refused before anything is written');

  const readme = await readFile(projectFile('README.md'), 'utf8');
  const example = /```json\n(\{ "schemaVersion": 1, "entries": \[[\s\S]*?\] \})\n```/.exec(readme)?.[1];
  assert.ok(example, 'README shows a baseline');
  const ids = (JSON.parse((await run(['list', '--json'])).stdout) as { id: string }[]).map((c) => c.id);
  for (const e of (JSON.parse(example) as { entries: { case: string }[] }).entries)
    assert.ok(ids.includes(e.case), `README's baseline names ${e.case}`);
});

void test('the printed re-run command, on the console and in summary.md, is one command that repeats the run; report.json records --timeout', async () => {
  const out = join(root, 'rerun');
  const args = [
    'run',
    '--suite',
    'stanza',
    '--tag',
    'versioning',
    '--grep',
    'version$',
    '--reference-fault',
    'omit-interop-version',
    '--timeout',
    '15000',
    '--seed',
    '21',
    '--reporter',
    'console,json,markdown',
    '--out',
    out,
  ];
  const first = await run(args);
  assert.equal(first.code, 1, first.stdout + first.stderr);
  const printed = /re-run the same cases in the same order with:\n {2}(.+)\n/.exec(first.stdout)?.[1];
  assert.equal(
    printed,
    "interop-conformance run --seed 21 --reference-fault omit-interop-version --suite stanza --tag versioning --grep 'version$' --timeout 15000",
  );
  const { dir, report } = await latest(out);
  assert.equal(report.run.timeoutMs, 15000);
  assert.ok(
    (await readFile(join(dir, 'summary.md'), 'utf8')).includes(`\`${printed}\``),
    'summary.md prints the same command',
  );

  const again = await promisify(execFile)(
    'sh',
    [
      '-c',
      `${printed.replace(/^interop-conformance /, `"${process.execPath}" "${cli}" `)} --reporter json --out "${out}"`,
    ],
    { env: { ...process.env, NO_COLOR: '1' } },
  ).then(
    () => 0,
    (e: { code: number }) => e.code,
  );
  assert.equal(again, 1);
  const { report: repeated } = await latest(out);
  assert.deepEqual(
    repeated.cases.map((c) => [c.id, c.outcome]),
    report.cases.map((c) => [c.id, c.outcome]),
  );
  assert.deepEqual(
    { ...repeated.run.filters, seed: repeated.run.seed, timeoutMs: repeated.run.timeoutMs },
    { ...report.run.filters, seed: 21, timeoutMs: 15000 },
  );
});

void test('--out that cannot hold a report is refused before the first case, in one line, exit 2, and never spins', async () => {
  const file = join(root, 'a-file');
  await writeFile(file, '');
  for (const [outDir, reason] of [
    ['/proc/nope', /^interop-conformance: --out \/proc\/nope: cannot create \/proc\/nope \(ENOENT/],
    [file, /: not a folder$/m],
    [join(file, 'below'), /a-file is not a folder$/m],
  ] as const) {
    const r = await run(['run', ...PASSING, '--out', outDir]);
    assert.equal(r.code, 2, `${outDir}: ${r.stdout}${r.stderr}`);
    oneLine(r.stderr);
    assert.match(r.stderr, reason);
    assert.doesNotMatch(r.stdout, /PASS|CONFORMANT|Running/, 'no case ran');
  }
});

void test("README's CI summary step says so when no report was written, and shows summary.md when one was; --last-failed after a green run exits 0", async () => {
  const readme = await readFile(projectFile('README.md'), 'utf8');
  const step = /- name: Summary\n {8}if: always\(\)\n {8}run: \|\n((?: {10}.*\n)+)/.exec(readme)?.[1];
  assert.ok(step, 'README has the Summary step');
  const script = step.replace(/^ {10}/gm, '');
  const job = async (dir: string): Promise<{ code: number; summary: string }> => {
    const summaryFile = join(dir, 'step-summary.md');
    const code = await promisify(execFile)('bash', ['-e', '-c', script], {
      cwd: dir,
      env: { ...process.env, GITHUB_STEP_SUMMARY: summaryFile },
    }).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    return { code, summary: await readFile(summaryFile, 'utf8').catch(() => '') };
  };
  const empty = await mkdtemp(join(root, 'ci-unreachable-'));
  const unreachable = await run([
    'run',
    '--provider',
    'http://127.0.0.1:9',
    '--token',
    't',
    '--out',
    join(empty, 'reports'),
  ]);
  assert.equal(unreachable.code, 3);
  const none = await job(empty);
  assert.equal(none.code, 0, 'the summary step does not fail');
  assert.match(none.summary, /No report was written/);

  const green = await mkdtemp(join(root, 'ci-green-'));
  const passed = await run(['run', ...PASSING, '--reporter', 'json,markdown', '--out', join(green, 'reports')]);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  const shown = await job(green);
  assert.equal(shown.code, 0);
  assert.match(shown.summary, /^## interop-conformance: CONFORMANT/);

  const rerun = await run(['run', '--last-failed', '--out', join(green, 'reports')]);
  assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
  assert.match(
    rerun.stdout,
    /--last-failed: nothing failed, errored or went unrun in .*report\.json; nothing to rerun/,
  );
});

void test('flags: --reporter accumulates, the verdict prints without the console reporter, the seed prints once, unknown names get a suggestion', async () => {
  const out = join(root, 'flags');
  const r = await run(['run', ...FAILING, '--reporter', 'json', '--reporter', 'junit', '--out', out]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const { dir } = await latest(out);
  assert.deepEqual((await readdir(dir)).sort(), ['junit.xml', 'report.json']);
  assert.match(r.stdout, /^NOT CONFORMANT: 1 failed, 0 errored/m);
  assert.equal(r.stdout.match(/^seed 5$/gm)?.length, 1, 'without the console reporter the CLI prints the seed');

  const console = await run(['run', ...FAILING, '--reporter', 'console', '--out', out]);
  const beginning = console.stdout.split(/^\s+(?:PASS|FAIL)\s/m)[0] ?? '';
  assert.equal(beginning.match(/\bseed 5\b/g)?.length, 1, `the seed shows once as the run begins:\n${beginning}`);

  for (const [args, message] of [
    [['run', '--suite', 'stanzaa'], /unknown suite "stanzaa" \(did you mean "stanza"\?\)/],
    [['run', '--tag', 'integrty'], /no case has the tag "integrty" \(did you mean "integrity"\?\)/],
    [['run', '--reference-fault', 'no-akc'], /unknown fault "no-akc" \(did you mean "no-ack"\?\)/],
    [['run', '--limit', 'xml-dept=3'], /unknown cap "xml-dept" \(did you mean "xml-depth"\?\)/],
    [['reference-provider', '--fault', 'no-akc'], /unknown fault "no-akc" \(did you mean "no-ack"\?\)/],
    [['list', '--suite', 'medai'], /unknown suite "medai" \(did you mean "media"\?\)/],
    [
      ['run', '--timeout', '-1'],
      /^interop-conformance: --timeout -1 is out of range \(100–600000\): it cannot be negative$/m,
    ],
  ] as const) {
    const refused = await run(args);
    assert.equal(refused.code, 2, `${args.join(' ')}: ${refused.stdout}${refused.stderr}`);
    oneLine(refused.stderr);
    assert.match(refused.stderr, message);
  }
});

void test('list honours --suite, --grep and --tag as run does', async () => {
  const r = await run(['list', '--json', '--suite', 'stanza', '--tag', 'acks', '--grep', 'message']);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { id: string; title: string; suite: string; tags: string[] }[];
  assert.ok(rows.length > 0);
  // --grep matches a case's id or its title, as run's does.
  for (const c of rows)
    assert.ok(c.suite === 'stanza' && c.tags.includes('acks') && /message/.test(`${c.id} ${c.title}`), c.id);
  const text = await run(['list', '--suite', 'media']);
  assert.match(text.stdout, /^\d+ cases in 1 suite\(s\)$/m);
});

void test('colour follows the conventions: --color and --no-color, then FORCE_COLOR, then a non-empty NO_COLOR, then the terminal', async () => {
  const esc = /\u001b\[/;
  assert.match(
    (await run(['run', ...FAILING, '--reporter', 'console', '--out', join(root, 'colour')], { FORCE_COLOR: '1' }))
      .stdout,
    esc,
    'FORCE_COLOR colours a pipe',
  );
  assert.doesNotMatch(
    (
      await run(['run', ...FAILING, '--reporter', 'console', '--no-color', '--out', join(root, 'colour')], {
        FORCE_COLOR: '1',
      })
    ).stdout,
    esc,
  );
  assert.match(
    (
      await run(['run', ...FAILING, '--reporter', 'console', '--color', '--out', join(root, 'colour')], {
        NO_COLOR: '1',
      })
    ).stdout,
    esc,
  );
  const tty = { isTTY: true };
  assert.equal(useColor(undefined, {}, tty), true);
  assert.equal(useColor(undefined, { NO_COLOR: '' }, tty), true, 'an empty NO_COLOR is not set (no-color.org)');
  assert.equal(useColor(undefined, { NO_COLOR: '1' }, tty), false);
  assert.equal(useColor(undefined, { NO_COLOR: '1', FORCE_COLOR: '1' }, {}), true);
  assert.equal(useColor(undefined, { FORCE_COLOR: '0' }, tty), false);
  assert.equal(useColor(undefined, { TERM: 'dumb' }, tty), false);
  assert.equal(useColor(false, { FORCE_COLOR: '1' }, tty), false);
  assert.equal(useColor(undefined, {}, {}), false, 'a pipe gets no colour by default');
});

void test('a provider on loopback without --allow-private-targets is refused before any case, naming the flag; with it, the run goes on', async () => {
  const token = 'private-target-token';
  const provider = await startReferenceProvider({ driverToken: token });
  try {
    const out = join(root, 'private');
    const args = [
      'run',
      '--provider',
      provider.url,
      '--token',
      token,
      '--provider-ca',
      await caFile(provider.mediaCaPem),
      ...PASSING,
      '--reporter',
      'console,json',
      '--out',
      out,
    ];
    const refused = await run(args);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    oneLine(refused.stderr);
    assert.match(
      refused.stderr,
      /\/\.well-known\/dma-interop points jwksUri at 127\.0\.0\.1, a loopback address, which the harness refuses to fetch from; for a provider on your own machine or network, pass --allow-private-targets$/m,
    );
    assert.doesNotMatch(refused.stdout, /PASS|ERROR|CONFORMANT/, 'no case ran');
    assert.deepEqual(await readdir(out).catch(() => []), [], 'no report');
    const allowed = await run([...args, '--allow-private-targets']);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    assert.match(allowed.stdout, /--provider-ca \S+provider-ca\.pem/, 'the re-run command keeps the CA');
  } finally {
    await provider.close();
  }
});

async function caFile(pem: string): Promise<string> {
  const file = join(root, 'provider-ca.pem');
  await writeFile(file, pem);
  return file;
}

void test('reference-provider exits 2 with the reason when its port is taken or its --ca-out cannot be written', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = taken.address() as AddressInfo;
    const busy = await run(['reference-provider', '--port', String(port)]);
    assert.equal(busy.code, 2, busy.stdout + busy.stderr);
    oneLine(busy.stderr);
    assert.match(busy.stderr, new RegExp(`cannot serve on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
  const unwritable = await run(['reference-provider', '--ca-out', '/proc/nope/ca.pem']);
  assert.equal(unwritable.code, 2, unwritable.stdout + unwritable.stderr);
  oneLine(unwritable.stderr);
  assert.match(
    unwritable.stderr,
    /^interop-conformance: --ca-out \/proc\/nope\/ca\.pem: cannot write the CA there \(ENOENT/,
  );
  assert.doesNotMatch(unwritable.stdout, /reference provider at/, 'nothing announced that is not served');
});
