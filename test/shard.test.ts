import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseShard } from '../src/cli/options.js';
import { isHarnessError } from '../src/core/errors.js';
import { loadCatalogue, selectCases } from '../src/harness/catalogue.js';

void test('--shard i/n splits the selection into n disjoint, covering, deterministic shares of near-equal size', async () => {
  const catalogue = await loadCatalogue();
  const all = selectCases(catalogue, { suites: [], tags: [] }).map((c) => c.id);
  for (const total of [1, 2, 3, 7]) {
    const shares = Array.from({ length: total }, (_, i) =>
      selectCases(catalogue, { suites: [], tags: [], shard: { index: i + 1, total } }).map((c) => c.id),
    );
    assert.deepEqual(shares.flat().sort(), [...all].sort(), `${total} shards cover the selection once`);
    const sizes = shares.map((s) => s.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes.join(', ')}`);
    assert.deepEqual(
      selectCases(catalogue, { suites: [], tags: [], shard: { index: 1, total } }).map((c) => c.id),
      shares[0],
      'the same share twice',
    );
  }
  const stanza = selectCases(catalogue, { suites: ['stanza'], tags: [], shard: { index: 2, total: 2 } });
  assert.ok(
    stanza.every((c) => c.suite === 'stanza'),
    'a shard of a filtered selection',
  );
  assert.throws(
    () => selectCases(catalogue, { suites: [], tags: [], shard: { index: all.length + 1, total: all.length + 1 } }),
    /holds no case/,
  );
});

void test('--shard takes i/n with 1 ≤ i ≤ n, and says so in one line otherwise', () => {
  assert.deepEqual(parseShard('2/4'), { index: 2, total: 4 });
  for (const bad of ['0/4', '5/4', '1/0', '2', '1/2/3', 'a/b', ' 1/2', '-1/2']) {
    assert.throws(
      () => parseShard(bad),
      (e: unknown) =>
        isHarnessError(e) &&
        e.code === 'E_USAGE' &&
        e.message === `--shard "${bad}" must be i/n with 1 ≤ i ≤ n (e.g. 2/4)`,
    );
  }
});
