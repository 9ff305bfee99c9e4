import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MarkdownReporter } from '../src/reporters/markdown.js';
import { defaultCases, sampleCase, sampleReport } from './helpers/sample-report.js';

const markdown = (cases = defaultCases()): string => {
  const [file] = new MarkdownReporter().onEnd(sampleReport(cases));
  assert.equal(file?.name, 'summary.md');
  return file.content;
};

void test('summary.md gives the verdict, a table per suite and every case that did not pass', () => {
  const md = markdown();
  assert.match(md, /^## interop-conformance: NOT CONFORMANT: 1 failed, 1 errored/);
  assert.match(md, /\| stanza \| 1 \| 1 \| 1 \| 1 \| 1 \|/);
  assert.match(md, /\| media \| 1 \| 0 \| 0 \| 0 \| 0 \|/);
  assert.match(md, /\| \*\*all\*\* \| \*\*2\*\* \| \*\*1\*\* \| \*\*1\*\* \| \*\*1\*\* \| \*\*1\*\* \|/);
  const listed = md
    .split('\n')
    .filter((l) => l.startsWith('| ❌') || l.startsWith('| ⚠️') || l.startsWith('| ⏭️') || l.startsWith('| 💥'));
  assert.equal(listed.length, 4);
  assert.ok(!md.includes('stanza.sample.pass'), 'a pass is not listed');
  // The same command as the console's: the selection and the faults come with the seed.
  assert.match(
    md,
    /`interop-conformance run --seed 1234 --reference-fault no-ack --suite stanza --suite media --grep sample`/,
  );
});

void test('a conformant run says so and lists nothing', () => {
  const md = markdown([sampleCase('pass')]);
  assert.match(md, /^## interop-conformance: CONFORMANT[\n,]/);
  assert.ok(!md.includes('### Not passed'));
});

void test('what a provider wrote cannot break the table or inject markup', () => {
  const md = markdown([sampleCase('fail', { message: 'saw <script>alert(1)</script> | `x` **bold**\nsecond line' })]);
  const row = md.split('\n').find((l) => l.startsWith('| ❌')) ?? '';
  assert.equal(row.split(/(?<!\\)\|/).length, 6, row);
  assert.ok(!row.includes('<script>'));
  assert.ok(row.includes('\\<script\\>'));
});
