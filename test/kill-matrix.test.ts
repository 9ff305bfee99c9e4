/**
 * The kill matrix: every case passes against the clean reference provider; under each fault, every
 * case that names it fails for the stated reason, and no other case of the suites it touches fails.
 * A fault runs only those suites: a fault's collateral damage across suites would show in its own
 * suite first, and the matrix must stay within CI's time.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { CaseResult, CaseSpec } from '../src/core/model.js';
import { generateTls, type TlsMaterial } from '../src/gatekeeper/tls.js';
import { loadCatalogue } from '../src/harness/catalogue.js';
import { runConformance } from '../src/harness/run.js';
import { FAULTS } from '../src/reference-provider/faults.js';

let tls: TlsMaterial;
let cases: CaseSpec[];

before(async () => {
  tls = await generateTls();
  cases = (await loadCatalogue()).suites.flatMap((s) => s.cases);
});

async function runWith(faults: string[], suites: string[] = []): Promise<Map<string, CaseResult>> {
  const { report } = await runConformance({
    referenceFaults: faults,
    selection: { suites, tags: [] },
    seed: 20261123,
    timeoutMs: 20_000,
    reporters: [],
    tls,
  });
  return new Map(report.cases.map((r) => [r.id, r]));
}

const brief = (r: CaseResult | undefined): string => `${r?.id}: ${r?.outcome}: ${r?.message}`;

void test('every case passes against the clean reference provider', async () => {
  const results = await runWith([]);
  const bad = [...results.values()].filter((r) => r.outcome !== 'pass');
  assert.deepEqual(bad.map(brief), []);
  assert.equal(results.size, cases.length);
});

void test('every fault is named by at least one case, and every named fault exists', () => {
  const named = new Set(cases.flatMap((c) => c.faults.map((f) => f.name)));
  assert.deepEqual(Object.keys(FAULTS).filter((f) => !named.has(f)), []);
  assert.deepEqual([...named].filter((f) => !(f in FAULTS)), []);
});

void describe('under each fault', { concurrency: 8 }, () => {
  for (const fault of Object.keys(FAULTS)) {
    void test(fault, async () => {
      const suites = [...new Set(cases.filter((c) => c.faults.some((f) => f.name === fault)).map((c) => c.suite))];
      const results = await runWith([fault], suites);
      const problems: string[] = [];
      for (const c of cases.filter((k) => suites.includes(k.suite))) {
        const r = results.get(c.id);
        const ref = c.faults.find((f) => f.name === fault);
        if (ref) {
          if (r?.outcome !== 'fail') problems.push(`should fail: ${brief(r)}`);
          else if (!(r.actual ?? '').includes(ref.expect)) problems.push(`fails for another reason than "${ref.expect}": ${brief(r)}`);
        } else if (r?.outcome === 'fail') {
          problems.push(`fails without naming ${fault}: ${brief(r)}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});
