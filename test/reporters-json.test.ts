import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaseResult, RunReport } from '../src/core/model.js';
import { JsonReporter, toJson } from '../src/reporters/json.js';
import { validateReport } from '../src/reporters/report-schema.js';
import { sampleCase, sampleReport } from './helpers/sample-report.js';

const reportJson = (report: RunReport): string => {
  const [file, ...rest] = new JsonReporter().onEnd(report);
  assert.equal(rest.length, 0);
  assert.equal(file?.name, 'report.json');
  return file.content;
};

type Tree = Record<string | number, unknown>;

/** The report as plain JSON, broken on purpose: the value at `path` set to `value`, or deleted when `value` is undefined. */
function broken(report: RunReport, path: readonly (string | number)[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(report)) as Tree;
  const parent = path.slice(0, -1).reduce((node, key) => node[key] as Tree, copy);
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

void test('a report with every outcome and every evidence kind validates', () => {
  const report = sampleReport();
  assert.deepEqual(new Set(report.cases.map((c) => c.outcome)), new Set(['pass', 'fail', 'warn', 'skip', 'error']));
  assert.deepEqual(
    new Set(report.cases.flatMap((c) => c.evidence.map((e) => e.kind))),
    new Set(['frame', 'http', 'step', 'note']),
  );
  const parsed: unknown = JSON.parse(reportJson(report));
  assert.deepEqual(validateReport(parsed), { ok: true });
  assert.deepEqual(parsed, report);
});

void test('report.json is indented by two spaces, ends with a newline, and keeps the model key order', () => {
  const report = sampleReport();
  const content = reportJson(report);
  assert.match(content, /^\{\n {2}"schemaVersion": 1,\n {2}"run": \{\n {4}"id": /);
  assert.ok(content.endsWith('}\n'));

  // The same case built with its keys in another order is written identically.
  const c = sampleCase('fail');
  const shuffled = Object.fromEntries(Object.entries(c).reverse()) as unknown as CaseResult;
  assert.equal(toJson(sampleReport([shuffled])), toJson(sampleReport([c])));
  const keys = Object.keys((JSON.parse(toJson(sampleReport([shuffled]))) as { cases: object[] }).cases[0] ?? {});
  assert.deepEqual(keys, [
    'id',
    'transport',
    'suite',
    'title',
    'level',
    'requirement',
    'tags',
    'outcome',
    'message',
    'expected',
    'actual',
    'step',
    'startedAt',
    'durationMs',
    'evidence',
  ]);
});

void test('a broken report fails with the JSON path of what broke', () => {
  const cases: [string, (string | number)[], unknown, string][] = [
    [
      'missing field of a frame',
      ['cases', 1, 'evidence', 1, 'bytes'],
      undefined,
      '/cases/1/evidence/1 is missing "bytes"',
    ],
    [
      'unknown evidence kind',
      ['cases', 0, 'evidence', 0, 'kind'],
      'smoke',
      '/cases/0/evidence/0/kind must be one of frame, http, step, note',
    ],
    [
      'extra field of an http entry',
      ['cases', 0, 'evidence', 3, 'extra'],
      1,
      '/cases/0/evidence/3 has unknown property "extra"',
    ],
    [
      'unknown outcome',
      ['cases', 2, 'outcome'],
      'maybe',
      '/cases/2/outcome must be equal to one of the allowed values',
    ],
    ['wrong schema version', ['schemaVersion'], 2, '/schemaVersion must be equal to constant'],
    ['drifted summary', ['summary', 'flaky'], 0, '/summary has unknown property "flaky"'],
    ['bad timestamp', ['run', 'startedAt'], 'yesterday', '/run/startedAt must match format "date-time"'],
    ['missing run field', ['run', 'seed'], undefined, '/run is missing "seed"'],
  ];
  for (const [what, path, value, message] of cases) {
    const result = validateReport(broken(sampleReport(), path, value));
    assert.equal(result.ok, false, what);
    if (!result.ok) assert.deepEqual(result.errors, [message], what);
  }
});
