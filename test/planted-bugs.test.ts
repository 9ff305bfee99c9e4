/**
 * The planted-bug bank (`npm run planted-bugs`, scripts/planted-bugs.ts) measures the default run
 * against bugs engineers ship. The measurement runs outside `npm test`; this holds the bank to the
 * code it edits, so that a refactor of the reference provider cannot leave a bug that no longer
 * plants, or plants as a syntax error, to be found only when someone measures.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { projectRoot } from '../src/protocol/project-root.js';
import { loadBank, plantedSources } from '../scripts/planted-bugs.js';
import { FAULTS } from '../src/reference-provider/faults.js';

const BLIND_SPOTS = new Set([
  'value',
  'boundary',
  'variant',
  'freshness',
  'meaning',
  'groups',
  'privacy',
  'key-rotation',
  'fidelity',
  'error-handling',
  'other',
]);

void test('every planted bug still plants: its edits find their text once, and the module it leaves parses', async () => {
  const bank = await loadBank();
  assert.ok(bank.length >= 60, `${bank.length} bugs`);
  const ids = bank.map((b) => b.id);
  assert.deepEqual(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    [],
    'ids are unique',
  );
  for (const bug of bank) {
    assert.match(bug.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, bug.id);
    assert.ok(BLIND_SPOTS.has(bug.blindSpot), `${bug.id}: blind spot ${bug.blindSpot}`);
    assert.ok(bug.bug.length > 20, `${bug.id}: says what the bug is`);
    // A bug with a fault's name is that fault's, planted no more by default: it must say so.
    if (bug.id in FAULTS) assert.equal(bug.becameFault, bug.id, `${bug.id} is a fault of that name`);
    if (bug.becameFault !== undefined) assert.ok(bug.becameFault in FAULTS, `${bug.id}: no fault ${bug.becameFault}`);
    if (bug.conformant !== undefined)
      assert.match(bug.conformant, /^[A-Z§][^\n]{20,}/, `${bug.id}: names the words that allow it`);
    for (const [file, text] of await plantedSources(bug, join(projectRoot(), 'dist', 'src'))) {
      assert.ok(file.startsWith('reference-provider/'), `${bug.id}: ${file} is not the reference provider's`);
      const { diagnostics = [] } = ts.transpileModule(text, { reportDiagnostics: true, fileName: file });
      assert.deepEqual(
        diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
        [],
        `${bug.id}: ${file} parses`,
      );
    }
    assert.ok(
      bug.edits.some((e) => e.find !== e.replace),
      `${bug.id}: changes something`,
    );
  }
});
