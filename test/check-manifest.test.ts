/**
 * The check registry is what the check modules declare (`defineCheck`): the build writes it, and a
 * run, the suite loader and `list` read it. These tests hold the manifest to the modules, the suites
 * to the manifest, and a provider-wide action to a declaration, which the compiler enforces.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defineCheck } from '../src/checks/check.js';
import { checkManifest, findChecks, loadCheck } from '../src/checks/manifest.js';
import { met } from '../src/core/model.js';
import { loadCatalogue } from '../src/harness/catalogue.js';

void test('the built manifest is what the check modules declare now, and each entry loads its check', async () => {
  const found = await findChecks();
  assert.deepEqual([...checkManifest().values()], found, 'rebuild: the manifest is stale');
  assert.ok(found.length >= 140, `${found.length} checks`);
  for (const entry of found) {
    const check = await loadCheck(entry);
    assert.equal(check.name, entry.name);
    assert.deepEqual(check.changes, entry.changes);
  }
});

void test("a check is named by its cases' ids: the longest prefix they share, dots as slashes, the mode segment aside", async () => {
  const { suites } = await loadCatalogue();
  const idsOf = new Map<string, string[][]>();
  for (const c of suites.flatMap((s) => s.cases)) {
    const segments = c.id.split('.');
    // `pq` names the session mode, which a param sets on a check both modes share (sessionMode),
    // or which a pq-only check holds without one.
    if (c.params['mode'] === 'pq') assert.ok(segments.includes('pq'), `${c.id}: mode pq, no pq segment`);
    const path = segments.filter((s) => s !== 'pq');
    idsOf.set(c.check, [...(idsOf.get(c.check) ?? []), path]);
  }
  const misnamed = [...idsOf].flatMap(([check, paths]) => {
    const first = paths[0] ?? [];
    let shared = 0;
    while (shared < first.length && paths.every((p) => p[shared] === first[shared])) shared++;
    const expected = first.slice(0, shared).join('/');
    return check === expected ? [] : [`${check} should be ${expected}`];
  });
  assert.deepEqual(misnamed, []);
  // And back: a case's check is the longest check name its id begins with.
  const names = [...idsOf.keys()];
  const astray = suites
    .flatMap((s) => s.cases)
    .filter((c) => {
      const path = c.id.split('.').filter((s) => s !== 'pq');
      const longest = names
        .filter((n) => n.split('/').every((segment, i) => path[i] === segment))
        .sort((a, b) => b.length - a.length)[0];
      return longest !== c.check;
    })
    .map((c) => c.id);
  assert.deepEqual(astray, []);
});

void test('every check is named by some case, and the checks that change provider-wide state are the ones that run alone', async () => {
  const { suites } = await loadCatalogue();
  const used = new Set(suites.flatMap((s) => s.cases.map((c) => c.check)));
  const unused = [...checkManifest().keys()].filter((name) => !used.has(name));
  assert.deepEqual(unused, [], 'a check no case runs is dead code');
  const alone = [...checkManifest().values()]
    .filter((c) => c.changes.length > 0)
    .map((c) => `${c.name}: ${c.changes.join(', ')}`);
  assert.deepEqual(alone, [
    'media/fetch/expiry: hosted-media',
    'messaging/mailbox/drain: trusted-gatekeeper-keys',
    'ownership/push: trusted-gatekeeper-keys',
    'ownership/push/accepted: trusted-gatekeeper-keys',
    'ownership/push/key-rotation: trusted-gatekeeper-keys',
    'ownership/push/unknown-identifier: trusted-gatekeeper-keys',
    'ownership/push/wakes-client: trusted-gatekeeper-keys',
    'ownership/rotation/keep-old-key: proof-keys',
    'ownership/rotation/publish-before-sign: proof-keys',
    'ownership/rotation/retire: proof-keys',
    'ownership/server/http-versions/push: trusted-gatekeeper-keys',
  ]);
});

void test('two checks of one name, or a check outside its folder, stop the build', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'checks-'));
  const check = (name: string) =>
    `export const c = { kind: 'check', name: '${name}', params: {}, changes: [], run: async () => ({}) };\n`;
  try {
    await mkdir(join(dir, 'stanza'));
    await writeFile(join(dir, 'stanza', 'a.js'), check('stanza/ping'));
    await writeFile(join(dir, 'stanza', 'b.js'), check('stanza/ping'));
    await assert.rejects(
      findChecks(dir),
      /check stanza\/ping is exported by both stanza\/a\.js \(c\) and stanza\/b\.js \(c\)/,
    );
    // A new file name each time: the module cache would hand back the first b.js.
    await rm(join(dir, 'stanza', 'b.js'));
    await writeFile(join(dir, 'stanza', 'c.js'), check('media/ping'));
    await assert.rejects(findChecks(dir), /stanza\/c\.js exports check media\/ping, which belongs in media\//);
    await rm(join(dir, 'stanza', 'c.js'));
    await writeFile(join(dir, 'stanza', 'd.js'), check('stanza/pong'));
    assert.deepEqual(
      (await findChecks(dir)).map((c) => `${c.module} ${c.export} ${c.name}`),
      ['stanza/a.js c stanza/ping', 'stanza/d.js c stanza/pong'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Compile-time assertions: each @ts-expect-error fails the build if the line below it compiles.
// Never run; the checks are defined only to be type-checked.
/* eslint-disable @typescript-eslint/no-unsafe-call -- the lines under @ts-expect-error must not type-check */
void (() => {
  defineCheck({ name: 'stanza/undeclared' }, async (ctx) => {
    // @ts-expect-error: a check that declares no change is given no provider-wide action...
    await ctx.providerWide.expireMedia();
    // @ts-expect-error: ...nor reaches one through the driver.
    await ctx.testbed.driver.rotateProofKey();
    return met();
  });
  defineCheck({ name: 'media/declared', changes: ['hosted-media'] }, async (ctx) => {
    await ctx.providerWide.expireMedia();
    // @ts-expect-error: only the actions of the state it declares.
    await ctx.providerWide.retireProofKeys();
    return met();
  });
});
/* eslint-enable @typescript-eslint/no-unsafe-call */
