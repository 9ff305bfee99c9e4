import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readBaseline, writeBaseline } from '../src/cli/baseline-file.js';
import {
  applyBaseline,
  baselineFromReport,
  describeBaselineProblem,
  judgeAgainstBaseline,
  type Baseline,
  type BaselineEntry,
} from '../src/core/baseline.js';
import { isHarnessError } from '../src/core/errors.js';
import { Chalk } from 'chalk';
import { renderSummary } from '../src/reporters/console.js';
import { toHtml } from '../src/reporters/html.js';
import { toJson } from '../src/reporters/json.js';
import { toMarkdown } from '../src/reporters/markdown.js';
import { validateReport } from '../src/reporters/report-schema.js';
import { defaultCases, sampleCase, sampleReport } from './helpers/sample-report.js';

const TODAY = '2026-06-01';
const entry = (id: string, expected: BaselineEntry['expected'], expires = '2026-12-31'): BaselineEntry => ({
  case: id,
  expected,
  reason: 'ticket 12',
  owner: 'team-a',
  expires,
});
const baseline = (...entries: BaselineEntry[]): Baseline => ({ schemaVersion: 1, entries });
const judge = (b: Baseline, cases = defaultCases()): string[] =>
  judgeAgainstBaseline(sampleReport(cases), b, TODAY).map(describeBaselineProblem);

void test('a failure or error the baseline does not expect fails the gate; pass, warn and skip do not', () => {
  assert.deepEqual(judge(baseline()), [
    'unexpected fail: stanza.sample.fail: expected an <ack/> within 2 s; saw nothing',
    'unexpected error: stanza.sample.error: no verdict: the provider closed the connection (step send)',
  ]);
  assert.deepEqual(judge(baseline(entry('stanza.sample.fail', 'fail'), entry('stanza.sample.error', 'error'))), []);
});

void test('an expected failure that now passes fails the gate, and so does any other change of outcome', () => {
  const b = baseline(entry('stanza.sample.fail', 'fail'), entry('stanza.sample.error', 'fail'));
  const cases = [sampleCase('pass', { id: 'stanza.sample.fail' }), sampleCase('error')];
  assert.deepEqual(judge(b, cases), [
    'expected fail now passes: stanza.sample.fail; remove its entry to tighten the baseline',
    'expected fail, saw error: stanza.sample.error',
  ]);
});

void test('an entry past its expiry fails the gate, even for a case this run did not hold; the expiry day itself holds', () => {
  assert.deepEqual(
    judge(
      baseline(
        entry('stanza.sample.fail', 'fail', TODAY),
        entry('stanza.sample.error', 'error'),
        entry('other.shard.case', 'fail', '2026-05-31'),
      ),
    ),
    ['expired on 2026-05-31: other.shard.case (owner team-a: ticket 12); renew or remove the entry'],
  );
});

void test('a baseline from a run accepts exactly its failures, keeping entries that are still accurate and those of cases it did not hold', () => {
  const report = sampleReport();
  const kept = entry('stanza.sample.fail', 'fail');
  const elsewhere = entry('other.shard.case', 'fail');
  const b = baselineFromReport(
    report,
    baseline(kept, entry('stanza.sample.error', 'fail'), entry('stanza.sample.pass', 'fail'), elsewhere),
    TODAY,
  );
  // stanza.sample.pass passed in this run, so its entry goes; other.shard.case was not run, so it stays as it was.
  assert.deepEqual(
    b.entries.map((e) => e.case),
    ['stanza.sample.fail', 'stanza.sample.error', 'other.shard.case'],
  );
  assert.equal(b.entries[2], elsewhere);
  assert.equal(b.entries[0], kept);
  assert.deepEqual(
    { ...b.entries[1], reason: '' },
    { case: 'stanza.sample.error', expected: 'error', reason: '', owner: 'unassigned', expires: '2026-08-30' },
  );
  assert.match(b.entries[1]?.reason ?? '', /^recorded from run 2026-03-01T10-00-00Z-abc123: no verdict/);
  assert.deepEqual(judgeAgainstBaseline(report, b, TODAY), []);
});

void test('over several transports an entry holds for its transport, or for every one without it; new entries name theirs', () => {
  const fail = sampleCase('fail');
  const over = (r: typeof fail, transport: 'xml-ws' | 'noise-binary'): typeof fail => ({ ...r, transport });
  const report = {
    ...sampleReport([over(fail, 'xml-ws'), over(fail, 'noise-binary')]),
  };
  const both = { ...report, run: { ...report.run, transports: ['xml-ws', 'noise-binary'] as const } };
  const problems = (b: Baseline): string[] => judgeAgainstBaseline(both, b, TODAY).map(describeBaselineProblem);
  assert.deepEqual(problems(baseline(entry('stanza.sample.fail', 'fail'))), []);
  assert.deepEqual(problems(baseline({ ...entry('stanza.sample.fail', 'fail'), transport: 'noise-binary' })), [
    'unexpected fail: stanza.sample.fail [xml-ws]: expected an <ack/> within 2 s; saw nothing',
  ]);
  const made = baselineFromReport(both, undefined, TODAY);
  assert.deepEqual(
    made.entries.map((e) => `${e.case} ${e.transport}`),
    ['stanza.sample.fail xml-ws', 'stanza.sample.fail noise-binary'],
  );
  assert.deepEqual(judgeAgainstBaseline(both, made, TODAY), []);
  // An entry for every transport, still accurate, is kept once.
  const kept = baselineFromReport(both, baseline(entry('stanza.sample.fail', 'fail')), TODAY);
  assert.deepEqual(kept.entries, [entry('stanza.sample.fail', 'fail')]);
});

void test('a baseline file round-trips; a bad one is one line naming the file and the JSON path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baseline-'));
  try {
    const file = join(dir, 'baseline.json');
    const good = baseline(entry('a', 'fail'));
    await writeBaseline(file, good);
    assert.deepEqual(await readBaseline(file), good);
    assert.match(await readFile(file, 'utf8'), /^\{\n {2}"schemaVersion": 1,/);
    const cases: [unknown, RegExp][] = [
      ['{ not json', /not JSON/],
      [
        { schemaVersion: 1, entries: [{ case: 'a', expected: 'fail', reason: 'r', owner: 'o' }] },
        /\/entries\/0 is missing "expires"/,
      ],
      [
        { schemaVersion: 1, entries: [{ ...entry('a', 'fail'), expected: 'broken' }] },
        /\/entries\/0\/expected must be equal to one of the allowed values/,
      ],
      [
        { schemaVersion: 1, entries: [{ ...entry('a', 'fail'), expires: '31/12/2026' }] },
        /\/entries\/0\/expires must match format "date"/,
      ],
      [
        { schemaVersion: 1, entries: [entry('a', 'fail'), entry('a', 'error')] },
        /\/entries\/1\/case repeats "a" of \/entries\/0/,
      ],
    ];
    for (const [content, message] of cases) {
      await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
      await assert.rejects(readBaseline(file), (e: unknown) => {
        assert.ok(isHarnessError(e) && e.code === 'E_USAGE');
        assert.ok(e.message.startsWith(`baseline ${file}: `), e.message);
        assert.match(e.message, message);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
    await assert.rejects(readBaseline(join(dir, 'missing.json')), /cannot read it/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('a judged report records each case against its entry and the verdict, and the summaries show it', () => {
  const b = baseline(
    entry('stanza.sample.fail', 'fail', '2026-05-01'),
    entry('media.sample.pass', 'fail'),
    entry('stanza.sample.error', 'fail'),
  );
  const judged = applyBaseline(sampleReport(), b, 'ci/baseline.json', TODAY);
  assert.deepEqual(validateReport(JSON.parse(toJson(judged))), { ok: true });
  const standing = Object.fromEntries(judged.cases.map((c) => [c.id, c.baseline?.status]));
  assert.deepEqual(standing, {
    'stanza.sample.pass': 'as-expected',
    'stanza.sample.fail': 'as-expected',
    'stanza.sample.warn': 'as-expected',
    'stanza.sample.skip': 'as-expected',
    'stanza.sample.error': 'changed',
    'media.sample.pass': 'newly-passing',
  });
  assert.equal(judged.cases.find((c) => c.id === 'stanza.sample.fail')?.baseline?.entry?.expired, true);
  assert.equal(judged.cases.find((c) => c.id === 'stanza.sample.pass')?.baseline?.entry, undefined);
  assert.deepEqual(judged.baseline, {
    file: 'ci/baseline.json',
    date: TODAY,
    entries: 3,
    matches: false,
    departures: [
      'expected fail, saw error: stanza.sample.error',
      'expected fail now passes: media.sample.pass; remove its entry to tighten the baseline',
      'expired on 2026-05-01: stanza.sample.fail (owner team-a: ticket 12); renew or remove the entry',
    ],
  });
  const md = toMarkdown(judged);
  assert.match(md, /\*\*Baseline\*\* `ci\/baseline\.json` \(3 entries, judged on 2026-06-01\): ❌ 3 departures/);
  assert.match(md, /- expected fail now passes: media\.sample\.pass/);
  assert.ok(
    md.includes(
      '| (baseline as-expected: expected fail, owner team-a, until 2026-05-01 (EXPIRED), ticket 12) expected an \\<ack/\\> within 2 s',
    ),
    md,
  );
  const txt = renderSummary(judged, new Chalk({ level: 0 }));
  assert.match(
    txt,
    /baseline ci\/baseline\.json \(3 entries, judged on 2026-06-01\): 3 departures\n {2}expected fail, saw error: stanza\.sample\.error\n/,
  );
  assert.equal(toMarkdown(sampleReport()).includes('Baseline'), false, 'no baseline, no section');
  const page = toHtml(judged);
  assert.match(
    page,
    /<dt>baseline<\/dt><dd>ci\/baseline\.json \(3 entries, judged on 2026-06-01\): 3 departures: expected fail, saw error/,
  );
  assert.match(
    page,
    /<dt>baseline<\/dt><dd>newly-passing; expected fail, owner team-a, until 2026-12-31: ticket 12<\/dd>/,
  );
});
