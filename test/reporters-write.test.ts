import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runId, writeReportFiles } from '../src/reporters/write.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'reports-write-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const files = [
  { name: 'report.json', content: '{}\n' },
  { name: 'junit.xml', content: '<testsuites/>\n' },
];

const rejects = (p: Promise<unknown>, message: RegExp): Promise<void> =>
  assert.rejects(p, (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'E_REPORT');
    assert.match((e as Error).message, message);
    return true;
  });

void test('run ids sort by start to the millisecond, so a run started within the same second as the one before it still sorts after it', () => {
  const start = Date.parse('2026-03-01T10:00:00.998Z');
  for (let i = 0; i < 20; i++) {
    const [a, b, c] = [runId(start), runId(start + 1), runId(start + 2)];
    assert.deepEqual([c, a, b].sort(), [a, b, c]);
  }
  assert.match(runId(start), /^2026-03-01T10-00-00\.998Z-[0-9a-f]{6}$/);
});

void test('writes the run folder whole, leaves no temporary folder, and points latest.txt at it', async () => {
  const out = join(root, 'ok', 'nested');
  const dir = await writeReportFiles(out, '2026-03-01T10-00-00Z-aaaaaa', files);
  assert.equal(dir, join(out, '2026-03-01T10-00-00Z-aaaaaa'));
  assert.deepEqual((await readdir(dir)).sort(), ['junit.xml', 'report.json']);
  assert.equal(await readFile(join(dir, 'report.json'), 'utf8'), '{}\n');
  assert.deepEqual((await readdir(out)).sort(), ['2026-03-01T10-00-00Z-aaaaaa', 'latest.txt']);
  assert.equal(await readFile(join(out, 'latest.txt'), 'utf8'), '2026-03-01T10-00-00Z-aaaaaa\n');

  await writeReportFiles(out, '2026-03-01T11-00-00Z-bbbbbb', files);
  assert.equal(await readFile(join(out, 'latest.txt'), 'utf8'), '2026-03-01T11-00-00Z-bbbbbb\n');
  // An older run that finishes late does not take the pointer back.
  await writeReportFiles(out, '2026-03-01T09-00-00Z-cccccc', files);
  assert.equal(await readFile(join(out, 'latest.txt'), 'utf8'), '2026-03-01T11-00-00Z-bbbbbb\n');
  assert.equal((await readdir(out)).length, 4);
});

void test('an outDir that is a file fails with E_REPORT and changes nothing', async () => {
  const file = join(root, 'a-file');
  await writeFile(file, 'keep me');
  await rejects(writeReportFiles(file, 'run-1', files), /cannot create the report folder/);
  assert.equal(await readFile(file, 'utf8'), 'keep me');
});

void test('a failure half-way through removes what was written: no folder, no temporary folder', async () => {
  const out = join(root, 'half');
  const tooLong = [...files, { name: `${'x'.repeat(300)}.txt`, content: 'never' }];
  await rejects(writeReportFiles(out, 'run-1', tooLong), /cannot write the report to/);
  assert.deepEqual(await readdir(out), []);
});

void test('an existing run folder is never overwritten', async () => {
  const out = join(root, 'exists');
  await mkdir(join(out, 'run-1'), { recursive: true });
  await writeFile(join(out, 'run-1', 'mine.txt'), 'x');
  await rejects(writeReportFiles(out, 'run-1', files), /already exists/);
  assert.deepEqual(await readdir(join(out, 'run-1')), ['mine.txt']);
  assert.deepEqual(await readdir(out), ['run-1']);
});

void test('names that would escape the folder, hide, repeat or shadow latest.txt are refused before writing', async () => {
  const out = join(root, 'names');
  for (const [runId, name] of [
    ['../run', 'report.json'],
    ['run/x', 'report.json'],
    ['.run', 'report.json'],
    ['', 'report.json'],
    ['run', '../escape.json'],
    ['run', 'sub/file.json'],
    ['run', '.hidden'],
    ['run', 'latest.txt'],
  ] as const) {
    await rejects(writeReportFiles(out, runId, [{ name, content: '' }]), /invalid/);
  }
  await rejects(writeReportFiles(out, 'run', [files[0]!, files[0]!]), /both named report.json/);
  await assert.rejects(readdir(out), { code: 'ENOENT' });
});
