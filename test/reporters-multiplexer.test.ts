import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Multiplexer } from '../src/reporters/multiplexer.js';
import type { Reporter } from '../src/reporters/reporter.js';
import { sampleReport } from './helpers/sample-report.js';

void test('a throwing reporter becomes a problem; the others still get every hook and keep their files', () => {
  const seen: string[] = [];
  const broken: Reporter = {
    name: 'console',
    onBegin: () => {
      throw new Error('begin broke');
    },
    onCaseEnd: () => {
      throw new Error('case broke');
    },
    onEnd: () => {
      throw new Error('end broke');
    },
  };
  const good: Reporter = {
    name: 'json',
    onBegin: () => seen.push('begin'),
    onCaseEnd: (r) => seen.push(r.id),
    onEnd: () => [{ name: 'report.json', content: '{}' }],
  };
  const duplicate: Reporter = {
    name: 'junit',
    onEnd: () => [
      { name: 'report.json', content: 'late' },
      { name: 'junit.xml', content: '<x/>' },
    ],
  };
  const report = sampleReport();
  const mux = new Multiplexer([broken, good, duplicate]);
  mux.onBegin({ seed: 1, cases: report.cases.length, provider: 'p', suites: [], transports: ['xml-ws'] });
  for (const r of report.cases) mux.onCaseEnd(r);
  const files = mux.onEnd(report);

  assert.deepEqual(seen, ['begin', ...report.cases.map((r) => r.id)]);
  assert.deepEqual(files, [
    { name: 'report.json', content: '{}' },
    { name: 'junit.xml', content: '<x/>' },
  ]);
  assert.deepEqual(mux.problems, [
    'console reporter failed in onBegin: begin broke',
    'console reporter failed in onCaseEnd: case broke',
    'console reporter failed in onEnd: end broke',
    'junit reporter: report.json is already written by the json reporter; kept the first',
  ]);
});
