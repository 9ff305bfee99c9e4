import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { RunReport } from '../src/core/model.js';
import { projectFile } from '../src/core/paths.js';
import { mergeRunReports } from '../src/harness/merge.js';
import { JsonReporter } from '../src/reporters/json.js';
import { validateReport } from '../src/reporters/report-schema.js';
import { writeReportFiles } from '../src/reporters/write.js';
import { defaultCases, sampleReport } from './helpers/sample-report.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'merge-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The sample cases under ids of real cases: a baseline names only cases that exist. */
const REAL: Record<string, string> = {
  'stanza.sample.pass': 'stanza.frame.subprotocol',
  'stanza.sample.fail': 'stanza.frame.open',
  'stanza.sample.warn': 'stanza.frame.interop-version',
  'stanza.sample.skip': 'stanza.frame.text',
  'stanza.sample.error': 'stanza.frame.one-element',
  'media.sample.pass': 'media.message.image',
};
const realCases = (): ReturnType<typeof defaultCases> => defaultCases().map((c) => ({ ...c, id: REAL[c.id] ?? c.id }));

/** Two shards of the default cases, as `run --shard i/2` would write them: the second started a minute later and took 3 s. */
function shards(): RunReport[] {
  const cases = realCases();
  return [0, 1].map((k) => {
    const mine = cases.filter((_, i) => i % 2 === k);
    const r = sampleReport(mine);
    const start = Date.parse(r.run.startedAt) + k * 60_000;
    return {
      ...r,
      run: {
        ...r.run,
        startedAt: new Date(start).toISOString(),
        finishedAt: new Date(start + 1000 + 2000 * k).toISOString(),
        durationMs: 1000 + 2000 * k,
        filters: { ...r.run.filters, shard: { index: k + 1, total: 2 } },
      },
    };
  });
}

async function written(report: RunReport, name: string): Promise<string> {
  return writeReportFiles(join(root, name), report.run.id, new JsonReporter().onEnd(report));
}

void test("shards merge into one valid report: every case, counts recomputed, times spanning both, the longest shard's duration, no shard filter", async () => {
  const [a, b] = shards() as [RunReport, RunReport];
  const merged = await mergeRunReports([
    { dir: 'a', report: a },
    { dir: 'b', report: b },
  ]);
  assert.deepEqual(validateReport(merged), { ok: true });
  assert.deepEqual(
    merged.cases.map((c) => c.id).sort(),
    realCases()
      .map((c) => c.id)
      .sort(),
  );
  assert.deepEqual(merged.summary, sampleReport().summary);
  assert.equal(merged.run.startedAt, a.run.startedAt);
  assert.equal(merged.run.finishedAt, b.run.finishedAt);
  // Shards run side by side, one per CI job: the run took as long as its longest shard, not the span between the jobs.
  assert.equal(merged.run.durationMs, 3000);
  assert.equal(merged.run.filters.shard, undefined);
  assert.deepEqual(merged.run.suites.map((s) => `${s.name} ${s.cases}`).sort(), ['media 1', 'stanza 5']);
});

void test('shards of a run over two transports merge lane by lane; a case over each transport is two results, not an overlap', async () => {
  const both = ['xml-ws', 'noise-binary'] as const;
  const [a, b] = shards().map((r): RunReport => ({
    ...r,
    run: { ...r.run, transports: both },
    // Each shard holds its cases over both transports, noise-binary's first, as a lane may finish in any order.
    cases: [...r.cases.map((c) => ({ ...c, transport: 'noise-binary' as const })), ...r.cases],
  })) as [RunReport, RunReport];
  const merged = await mergeRunReports([
    { dir: 'a', report: a },
    { dir: 'b', report: b },
  ]);
  assert.deepEqual(validateReport(merged), { ok: true });
  assert.deepEqual(merged.run.transports, both);
  // Lane by lane, each in declaration order.
  const lane = merged.cases.filter((c) => c.transport === 'xml-ws').map((c) => c.id);
  assert.deepEqual(
    [...lane].sort(),
    realCases()
      .map((c) => c.id)
      .sort(),
  );
  assert.deepEqual(
    merged.cases.map((c) => `${c.transport} ${c.id}`),
    [...lane.map((id) => `xml-ws ${id}`), ...lane.map((id) => `noise-binary ${id}`)],
  );
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'a2', report: a },
    ]),
    /case stanza\.frame\.subprotocol \[noise-binary\] is in both a and a2/,
  );
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'b', report: { ...b, run: { ...b.run, transports: ['xml-ws'] } } },
    ]),
    /transports/,
  );
});

void test('shards that overlap or come from another profile or suite version are refused', async () => {
  const [a, b] = shards() as [RunReport, RunReport];
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'a2', report: a },
    ]),
    /case stanza\.frame\.subprotocol is in both a and a2/,
  );
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'b', report: { ...b, run: { ...b.run, profileVersion: '2.0' } } },
    ]),
    /b was made with profile version 2\.0, a with 1\.0/,
  );
  const suites = b.run.suites.map((s) => ({ ...s, digest: 'c'.repeat(64) }));
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'b', report: { ...b, run: { ...b.run, suites } } },
    ]),
    /ran another version of suite/,
  );
});

void test('a merge of some shards, of shards of other runs, or of a whole run is refused', async () => {
  const [a, b] = shards() as [RunReport, RunReport];
  await assert.rejects(mergeRunReports([{ dir: 'a', report: a }]), /shard 2 of 2 is missing/);
  const at = (r: RunReport, endpoint: string): RunReport => ({
    ...r,
    run: { ...r.run, provider: { ...r.run.provider, embedded: false, faults: [], endpoint } },
  });
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: at(a, 'https://one.test') },
      { dir: 'b', report: at(b, 'https://other.test') },
    ]),
    /b differs from a in provider: "https:\/\/other\.test" vs "https:\/\/one\.test"; merge the shards of one run/,
  );
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'b', report: { ...b, run: { ...b.run, seed: 99 } } },
    ]),
    /b differs from a in seed: 99 vs 1234/,
  );
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'b', report: { ...b, run: { ...b.run, filters: { ...b.run.filters, tags: ['ack'] } } } },
    ]),
    /b differs from a in --tag: \["ack"\] vs \[\]/,
  );
  const stopped = {
    ...b,
    run: { ...b.run, interrupted: { signal: 'SIGTERM' as const } },
    summary: { ...b.summary, conformant: null },
  };
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'b', report: stopped },
    ]),
    /b was interrupted \(SIGTERM\) and holds no verdict; run shard 2\/2 again/,
  );
  const { shard: _shard, ...whole } = b.run.filters;
  await assert.rejects(
    mergeRunReports([
      { dir: 'a', report: a },
      { dir: 'b', report: { ...b, run: { ...b.run, filters: whole } } },
    ]),
    /b is not a shard, a one of 2/,
  );
});

void test('merge-reports from the command line writes the same formats as a run and exits by the merged verdict', async () => {
  const [a, b] = shards() as [RunReport, RunReport];
  const dirs = [await written(a, 'shard-1'), await written(b, 'shard-2')];
  const out = join(root, 'merged');
  const cli = projectFile('dist', 'src', 'cli', 'main.js');
  const result = await promisify(execFile)(process.execPath, [cli, 'merge-reports', ...dirs, '--out', out], {
    env: { ...process.env, NO_COLOR: '1' },
  }).then(
    () => ({ code: 0 }),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(result.code, 1, 'the sample run is not conformant');
  const [dir] = (await readdir(out)).filter((d) => d !== 'latest.txt');
  assert.ok(dir);
  assert.deepEqual((await readdir(join(out, dir))).sort(), [
    'junit.xml',
    'report.html',
    'report.json',
    'summary.md',
    'summary.txt',
  ]);
  const merged = JSON.parse(await readFile(join(out, dir, 'report.json'), 'utf8')) as RunReport;
  assert.equal(merged.cases.length, realCases().length);

  const bad = await promisify(execFile)(process.execPath, [
    cli,
    'merge-reports',
    join(root, 'nowhere'),
    '--out',
    join(root, 'none'),
  ]).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^interop-conformance: cannot read the report .*nowhere.*report\.json/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  await assert.rejects(readdir(join(root, 'none')), 'nothing written');
});

void test('merge-reports --baseline judges the merged report as run does, and writes the judgement into it', async () => {
  const [a, b] = shards() as [RunReport, RunReport];
  const dirs = [await written(a, 'judged-1'), await written(b, 'judged-2')];
  const cli = projectFile('dist', 'src', 'cli', 'main.js');
  const merge = (out: string, baseline: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    promisify(execFile)(process.execPath, [
      cli,
      'merge-reports',
      ...dirs,
      '--out',
      join(root, out),
      '--reporter',
      'json,markdown',
      '--baseline',
      baseline,
    ]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const entry = (id: string, expected: string): object => ({
    case: id,
    expected,
    reason: 'ticket 7',
    owner: 'team-a',
    expires: '2999-12-31',
  });
  const accepting = join(root, 'accepting.json');
  await writeFile(
    accepting,
    JSON.stringify({
      schemaVersion: 1,
      entries: [entry('stanza.frame.open', 'fail'), entry('stanza.frame.one-element', 'error')],
    }),
  );
  const ok = await merge('judged-ok', accepting);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /baseline: the run matches the baseline/);
  const [dir] = (await readdir(join(root, 'judged-ok'))).filter((d) => d !== 'latest.txt');
  const report = JSON.parse(await readFile(join(root, 'judged-ok', dir as string, 'report.json'), 'utf8')) as RunReport;
  assert.deepEqual(validateReport(report), { ok: true });
  assert.equal(report.baseline?.matches, true);
  assert.deepEqual(report.cases.find((c) => c.id === 'stanza.frame.open')?.baseline, {
    status: 'as-expected',
    entry: { expected: 'fail', reason: 'ticket 7', owner: 'team-a', expires: '2999-12-31', expired: false },
  });
  assert.match(
    await readFile(join(root, 'judged-ok', dir as string, 'summary.md'), 'utf8'),
    /\*\*Baseline\*\* `.*accepting\.json` \(2 entries, judged on \d{4}-\d\d-\d\d\): ✅ the run matches it/,
  );

  const stale = join(root, 'stale.json');
  await writeFile(
    stale,
    JSON.stringify({
      schemaVersion: 1,
      entries: [
        entry('stanza.frame.open', 'fail'),
        entry('stanza.frame.one-element', 'error'),
        entry('media.message.image', 'fail'),
      ],
    }),
  );
  const departed = await merge('judged-stale', stale);
  assert.equal(departed.code, 1, departed.stdout + departed.stderr);
  assert.match(departed.stdout, /baseline: expected fail now passes: media\.message\.image; remove its entry/);

  const broken = join(root, 'broken.json');
  await writeFile(broken, '{"schemaVersion": 1}');
  const refused = await merge('judged-broken', broken);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^interop-conformance: baseline .*broken\.json: .*entries/);
  await assert.rejects(readdir(join(root, 'judged-broken')), 'refused before anything is written');
});

void test('shards of the embedded reference provider, each on its own random port, merge; a shard run with another seed is refused by name', async () => {
  const cli = projectFile('dist', 'src', 'cli', 'main.js');
  const exec = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: '1' } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const shard = async (index: number, seed: string): Promise<string> => {
    const out = join(root, `embedded-${index}-${seed}`);
    const r = await exec([
      'run',
      '--grep',
      '^stanza\\.ack\\.',
      '--shard',
      `${index}/2`,
      '--seed',
      seed,
      '--reporter',
      'json',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return join(out, (await readFile(join(out, 'latest.txt'), 'utf8')).trim());
  };
  const [one, two] = [await shard(1, '3'), await shard(2, '3')];
  const ports = await Promise.all(
    [one, two].map(
      async (d) => (JSON.parse(await readFile(join(d, 'report.json'), 'utf8')) as RunReport).run.provider.endpoint,
    ),
  );
  assert.notEqual(ports[0], ports[1], 'each shard had its own embedded provider');
  const merged = await exec(['merge-reports', one, two, '--reporter', 'json', '--out', join(root, 'embedded-merged')]);
  assert.equal(merged.code, 0, merged.stdout + merged.stderr);
  assert.match(merged.stdout, /^CONFORMANT/m);

  const other = await shard(2, '4');
  const refused = await exec(['merge-reports', one, other, '--out', join(root, 'embedded-refused')]);
  assert.equal(refused.code, 2);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  assert.ok(
    refused.stderr.includes(`${other} differs from ${one} in seed: 4 vs 3; merge the shards of one run`),
    refused.stderr,
  );
});
