/**
 * scripts/install-browser.sh, which `npm test` runs first: nothing to do (and quick) where Chromium
 * is on PATH; where it cannot install, it says why and lets the tests run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectFile } from '../src/core/paths.js';

const SCRIPT = projectFile('scripts', 'install-browser.sh');
const sh = (env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> =>
  promisify(execFile)('/bin/sh', [SCRIPT], { env, timeout: 10_000 });

void test('npm test runs the browser setup before it builds', async () => {
  const { scripts } = (
    (await import(projectFile('package.json'), { with: { type: 'json' } })) as {
      default: { scripts: Record<string, string> };
    }
  ).default;
  assert.match(scripts['pretest'] ?? '', /^sh scripts\/install-browser\.sh && npm run build$/);
});

void test('without apt-get on PATH it installs nothing, says so, and succeeds', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'no-tools-'));
  try {
    const { stderr } = await sh({ PATH: empty });
    assert.match(stderr, /install-browser: no apt-get here; install Chromium yourself to run the browser test/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

void test(
  'with Chromium already on PATH it does nothing, in well under a second',
  { skip: process.platform !== 'linux' },
  async (t) => {
    const found = await promisify(execFile)('/bin/sh', [
      '-c',
      'command -v chromium || command -v chromium-browser || command -v google-chrome',
    ]).then(
      () => true,
      () => false,
    );
    if (!found) return t.skip('no Chromium on PATH here');
    const started = performance.now();
    const { stdout, stderr } = await sh(process.env);
    assert.equal(stdout + stderr, '');
    assert.ok(performance.now() - started < 1000);
  },
);
