/** The CLI end to end, as a user runs it: exit codes, one-line errors, the report folder. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { projectFile } from '../src/core/paths.js';
import { validateReport } from '../src/reporters/report-schema.js';

const cli = projectFile('dist', 'src', 'cli', 'main.js');
let out: string;

before(async () => {
  out = await mkdtemp(join(tmpdir(), 'reports-'));
});
after(async () => {
  await rm(out, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const oneLine = (s: string): void => {
  assert.equal(s.trim().split('\n').length, 1, `expected one line, got:\n${s}`);
  assert.doesNotMatch(s, /\n\s+at /, 'no stack trace');
};

void test('a default run certifies the reference provider and writes a valid report folder', async () => {
  const r = await run(['run', '--out', out, '--seed', '99']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /seed 99/);
  const [dir] = (await readdir(out)).filter((d) => !d.startsWith('latest'));
  assert.ok(dir);
  const files = await readdir(join(out, dir));
  for (const f of ['report.json', 'junit.xml', 'summary.txt']) assert.ok(files.includes(f), f);
  const report = JSON.parse(await readFile(join(out, dir, 'report.json'), 'utf8')) as { run: { seed: number }; summary: { conformant: boolean } };
  assert.deepEqual(validateReport(report), { ok: true });
  assert.equal(report.run.seed, 99);
  assert.equal(report.summary.conformant, true);
});

void test('a reference fault makes the run not conformant: exit 1', async () => {
  const r = await run(['run', '--reference-fault', 'no-ack', '--grep', 'ack\\.message', '--reporter', 'console', '--out', out]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /stanza\.ack\.message/);
});

void test('usage errors exit 2 with one line', async () => {
  for (const args of [
    ['run', '--bogus'],
    ['run', '--seed', 'abc'],
    ['run', '--suite', 'nope'],
    ['run', '--grep', 'no-such-case-anywhere'],
    ['run', '--reference-fault', 'nope'],
    ['run', '--provider', 'not a url', '--token', 't'],
    ['run', '--reporter', 'html'],
    ['frobnicate'],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    oneLine(r.stderr);
  }
});

void test('an unreachable provider exits 3 with one line and writes nothing', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'reports-empty-'));
  const r = await run(['run', '--provider', 'http://127.0.0.1:9', '--token', 't', '--out', empty]);
  assert.equal(r.code, 3, r.stderr);
  oneLine(r.stderr);
  assert.match(r.stderr, /unreachable/);
  assert.deepEqual(await readdir(empty), []);
  await rm(empty, { recursive: true, force: true });
});

void test('a provider that answers garbage exits 3 with one line naming what was wrong, and writes nothing', async () => {
  const answers: Record<string, (res: ServerResponse) => void> = {
    'not JSON': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>hello</html>'),
    'HTTP 500': (res) => res.writeHead(500).end(),
    Discovery: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"provider": 42}'),
  };
  for (const [expected, answer] of Object.entries(answers)) {
    const server = createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const empty = await mkdtemp(join(tmpdir(), 'reports-garbage-'));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await run(['run', '--provider', `http://127.0.0.1:${port}`, '--token', 't', '--out', empty]);
      assert.equal(r.code, 3, `${expected}: ${r.stdout}${r.stderr}`);
      oneLine(r.stderr);
      assert.ok(r.stderr.includes(expected), `${expected}: ${r.stderr}`);
      assert.deepEqual(await readdir(empty), []);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(empty, { recursive: true, force: true });
    }
  }
});

void test('list --json shows every case with its faults', async () => {
  const r = await run(['list', '--json']);
  assert.equal(r.code, 0);
  const rows = JSON.parse(r.stdout) as { id: string; suite: string; level: string; requirement: { id: string }; faults: string[] }[];
  const stanza = rows.filter((c) => c.suite === 'stanza');
  assert.ok(stanza.length >= 20);
  for (const c of rows) assert.ok(c.faults.length > 0 && c.requirement.id && c.level, c.id);
});
