/**
 * `--workers`: suites run side by side on their own gatekeepers, against one provider, and the
 * report says the same as a run on one. Logins and timings are the only things allowed to differ.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaseResult } from '../src/core/model.js';
import { generateTls } from '../src/gatekeeper/tls.js';
import { runConformance } from '../src/harness/run.js';

// Ownership and messaging hold the exclusive cases (proof-key rotation, pushes, the mailbox).
const SUITES = ['stanza', 'ownership', 'messaging'];

// Logins differ by worker, a measured clock skew by the second it crossed, and a measured delay by
// the machine's load: none is a verdict.
const verdicts = (cases: readonly CaseResult[]): string[] =>
  cases.map(
    (c) =>
      `${c.id}: ${c.outcome}: ${c.message
        .replace(/1-[0-9]{14}@interop/g, '<login>')
        .replace(/skew -?[0-9]+ s/g, 'skew <n> s')
        .replace(/[0-9]+ ms after/g, '<n> ms after')}`,
  );

void test('the same seed gives the same verdicts on one worker and on three', async () => {
  const tls = await generateTls();
  const gatekeepers = new Map<number, number>();
  const run = (workers: number) =>
    runConformance({
      selection: { suites: SUITES, tags: [] },
      // Workers deal suites the same in every lane: one lane says whether they change verdicts.
      transport: 'xml-ws',
      seed: 424242,
      timeoutMs: 20_000,
      reporters: [],
      tls,
      workers,
      watch: () => gatekeepers.set(workers, (gatekeepers.get(workers) ?? 0) + 1),
    });
  const one = await run(1);
  const three = await run(3);
  // Without this, a run that ignored --workers would compare a run with itself.
  assert.deepEqual([gatekeepers.get(1), gatekeepers.get(3)], [1, 3], 'three workers ran on three gatekeepers');
  assert.equal(one.report.cases.length, three.report.cases.length);
  assert.deepEqual(verdicts(three.report.cases), verdicts(one.report.cases));
  assert.ok(
    one.report.summary.conformant,
    verdicts(one.report.cases)
      .filter((v) => !v.includes(': pass:'))
      .join('\n'),
  );
});
