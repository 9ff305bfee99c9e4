/**
 * A new format is one reporter module: every module under src/reporters that exports a descriptor
 * is in the one list, and the CLI's choices are that list, so nothing else needs editing.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { DEFAULT_REPORTERS, resolveRunSettings } from '../src/cli/options.js';
import { createReporters, REPORTER_NAMES, REPORTERS } from '../src/reporters/registry.js';

const REPORTERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'reporters');

const isDescriptor = (v: unknown): v is { name: string; create: unknown } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { name?: unknown }).name === 'string' &&
  typeof (v as { create?: unknown }).create === 'function';

void test('every exported reporter descriptor is in the registry, once, and creates a reporter of its name', async () => {
  const found: { file: string; name: string; descriptor: unknown }[] = [];
  for (const file of (await readdir(REPORTERS_DIR)).filter((f) => f.endsWith('.js'))) {
    const mod = (await import(pathToFileURL(join(REPORTERS_DIR, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(mod))
      if (isDescriptor(value)) found.push({ file, name: value.name, descriptor: value });
  }
  const own = found.filter((f) => f.file !== 'registry.js');
  assert.ok(own.length >= 5, 'the five built-in formats export descriptors');
  for (const f of own)
    assert.ok(
      (REPORTERS as readonly unknown[]).includes(f.descriptor),
      `${f.file} exports reporter ${f.name}, which the registry lists`,
    );
  assert.equal(new Set(REPORTER_NAMES).size, REPORTERS.length, 'names are unique');
  const created = createReporters(REPORTER_NAMES, { out: { write: () => true }, color: false });
  assert.deepEqual(
    created.map((r) => r.name),
    [...REPORTER_NAMES],
  );
});

void test('the CLI offers exactly the registry, and its default is all of it', () => {
  assert.equal(DEFAULT_REPORTERS, REPORTER_NAMES.join(','));
  assert.deepEqual(resolveRunSettings({ reporter: ['json,html'] }, {}).reporters, ['json', 'html']);
  assert.deepEqual(
    resolveRunSettings({ reporter: ['json', 'junit', 'json'] }, {}).reporters,
    ['json', 'junit'],
    'a repeated --reporter accumulates',
  );
  assert.throws(
    () => resolveRunSettings({ reporter: ['pdf'] }, {}),
    /--reporter pdf unknown; choose from console, json, junit, markdown, html/,
  );
});
