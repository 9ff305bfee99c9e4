/** The CLI end to end, as a user runs it: exit codes, one-line errors, the report folder. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadProfile } from '../src/core/profile.js';
import { validateReport } from '../src/reporters/report-schema.js';
import { cli, runCli as run, spawnCli, assertOneLine as oneLine } from './helpers/cli-run.js';

let out: string;

before(async () => {
  out = await mkdtemp(join(tmpdir(), 'reports-'));
});
after(async () => {
  await rm(out, { recursive: true, force: true });
});

void test('a default run certifies the reference provider and writes a valid report folder, as an official package when asked', async () => {
  // --official changes nothing of a default run but the package it adds, so one run tests both. The
  // binary itself, once: the exit code its process ends with.
  const r = await spawnCli(['run', '--out', out, '--seed', '99', '--official']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /seed 99/);
  assert.match(
    r.stdout,
    /signing key: generated for this run, its private half kept nowhere; public key sha256:[0-9a-f]{64} \(also in the package as public-key\.pem\):\n-----BEGIN PUBLIC KEY-----/,
  );
  const packaged = /certification package: (\S+), signed by key/.exec(r.stdout)?.[1];
  assert.ok(packaged, r.stdout);
  const verified = await run(['verify-report', packaged]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /intact: 9 files/);
  const [dir] = (await readdir(out)).filter((d) => !d.startsWith('latest'));
  assert.ok(dir);
  const files = await readdir(join(out, dir));
  for (const f of ['report.json', 'junit.xml', 'summary.txt', 'summary.md', 'report.html'])
    assert.ok(files.includes(f), f);
  // The reviewer's page maps every requirement of the profile but its definitions, and this run checks all that have a case.
  const page = await readFile(join(out, dir, 'report.html'), 'utf8');
  const rows = [...page.matchAll(/data-requirement="([^"]+)" data-verdict="([a-z]+)"/g)];
  assert.equal(rows.length, (await loadProfile()).filter((r) => !r.definition).length);
  assert.ok(
    rows.every(
      ([, , verdict]) => verdict === 'pass' || verdict === 'warn' || verdict === 'uncovered' || verdict === 'skip',
    ),
    'a conformant run',
  );
  const report = JSON.parse(await readFile(join(out, dir, 'report.json'), 'utf8')) as {
    run: { seed: number; transports: string[]; deployments: string[] };
    summary: { conformant: boolean };
    cases: { id: string; suite: string; transport: string; outcome: string; message: string }[];
  };
  assert.deepEqual(validateReport(report), { ok: true });
  assert.equal(report.run.seed, 99);
  assert.equal(report.summary.conformant, true);
  // Over both transports the reference provider declares, in turn: a lane each, every result naming its own.
  assert.deepEqual(report.run.transports, ['xml-ws', 'noise-binary']);
  const lanes = report.cases.map((c) => c.transport);
  assert.deepEqual([...new Set(lanes)], ['xml-ws', 'noise-binary']);
  assert.equal(lanes.lastIndexOf('xml-ws') + 1, lanes.indexOf('noise-binary'), 'one lane after the other');
  // The reference provider is certified in both deployments: the proxy deployment's cases ran against a
  // second one, behind its chat proxy, and passed like every other case.
  assert.deepEqual(report.run.deployments, ['direct', 'proxy']);
  assert.ok(report.cases.some((c) => c.suite === 'proxy'));
  assert.ok(
    report.cases.every((c) => c.outcome === 'pass'),
    'no other case skipped: each ran over what it applies to',
  );
  assert.match(r.stdout, /over xml-ws, then noise-binary/);
});

void test('a reference fault makes the run not conformant: exit 1', async () => {
  const r = await run([
    'run',
    '--reference-fault',
    'omit-interop-version',
    '--grep',
    'frame\\.interop-version',
    '--reporter',
    'console',
    '--out',
    out,
  ]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /stanza\.frame\.interop-version/);
});

void test('a provider served apart, with its own CA, is certified when the run trusts that CA, and not otherwise', async () => {
  const ca = join(out, 'provider-ca.pem');
  const served = spawn(process.execPath, [cli, 'reference-provider', '--ca-out', ca], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let printed = '';
    for await (const chunk of served.stdout) {
      printed += String(chunk);
      if (printed.includes('run against it:')) break;
    }
    const [, url, token] = /at (\S+)\ndriver token (\S+)/.exec(printed) ?? [];
    assert.ok(url && token, printed);
    const media = [
      'run',
      '--provider',
      url,
      '--token',
      token,
      '--allow-private-targets',
      '--grep',
      '^media\\.fetch\\.length$',
      '--reporter',
      'console',
      '--out',
      out,
    ];
    const trusted = await run([...media, '--provider-ca', ca]);
    assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
    const untrusted = await run(media);
    assert.equal(untrusted.code, 1, untrusted.stdout);
    assert.match(untrusted.stdout, /self-signed certificate/);
  } finally {
    served.kill('SIGTERM');
  }
});

void test('usage errors exit 2 with one line', async () => {
  for (const args of [
    ['run', '--bogus'],
    ['run', '--seed', 'abc'],
    ['run', '--suite', 'nope'],
    ['run', '--grep', 'no-such-case-anywhere'],
    ['run', '--reference-fault', 'nope'],
    ['run', '--provider', 'not a url', '--token', 't'],
    ['run', '--reporter', 'pdf'],
    ['run', '--shard', '0/3'],
    ['run', '--shard', '4/3'],
    ['run', '--shard', 'half'],
    ['run', '--workers', '0'],
    ['run', '--provider-ca', 'package.json'],
    ['run', '--limit', 'xml-depth=deep'],
    ['run', '--limit', 'no-such-cap=3'],
    ['run', '--reference-deployment', 'sideways'],
    // A provider declares its own deployment: the flag is the embedded reference provider's.
    ['run', '--reference-deployment', 'proxy', '--provider', 'http://127.0.0.1:9', '--token', 't'],
    ['reference-provider', '--deployment', 'sideways'],
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

void test("a token that looks like the program's own flags (-V, -h) is the token, not a version or help", async () => {
  for (const token of ['-Vx3', '-hq_', '--version']) {
    const r = await run(['run', '--provider', 'http://127.0.0.1:9', '--token', token, '--out', out]);
    assert.equal(r.code, 3, `${token}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /unreachable/);
  }
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

void test('a reader that leaves early (list | head -1) gets its line, and the harness exits 0 without a word', async () => {
  const { stdout, stderr } = await promisify(execFile)('bash', [
    '-c',
    `set -o pipefail; "${process.execPath}" "${cli}" list | head -1`,
  ]);
  assert.equal(stdout.trim().split('\n').length, 1);
  assert.equal(stderr, '');
});

void test('list --json shows every case with its check, its transports when it has them, and its faults', async () => {
  const r = await run(['list', '--json']);
  assert.equal(r.code, 0);
  const rows = JSON.parse(r.stdout) as {
    id: string;
    suite: string;
    level: string;
    requirement: { id: string };
    check: string;
    transports?: string[];
    faults: string[];
  }[];
  const stanza = rows.filter((c) => c.suite === 'stanza');
  assert.ok(stanza.length >= 20);
  for (const c of rows) assert.ok(c.faults.length > 0 && c.requirement.id && c.level, c.id);
  const login = rows.find((c) => c.id === 'stanza.noise.login');
  assert.deepEqual([login?.check, login?.transports], ['stanza/noise/login', ['noise-binary']]);
  const ack = rows.find((c) => c.id === 'stanza.ack.message');
  assert.deepEqual([ack?.check, ack?.transports], ['stanza/ack/message', undefined]);
});

void test('a baseline gates CI: written from a failing run, matched by it, broken by a fix, refused when malformed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'baseline-cli-'));
  try {
    const file = join(dir, 'baseline.json');
    const failing = [
      'run',
      '--reference-fault',
      'omit-interop-version',
      '--grep',
      'frame\\.interop-version$',
      '--transport',
      'xml-ws',
      '--reporter',
      'json',
      '--out',
      join(dir, 'reports'),
    ];
    const written = await run([...failing, '--update-baseline', file]);
    assert.equal(written.code, 0, written.stdout + written.stderr);
    assert.match(written.stdout, /baseline: wrote 1 entries to /);
    const baseline = JSON.parse(await readFile(file, 'utf8')) as {
      entries: { case: string; expected: string; owner: string }[];
    };
    assert.deepEqual(
      baseline.entries.map((e) => [e.case, e.expected, e.owner]),
      [['stanza.frame.interop-version', 'fail', 'unassigned']],
    );

    const matched = await run([...failing, '--baseline', file]);
    assert.equal(matched.code, 0, matched.stdout + matched.stderr);
    const latest = (await readFile(join(dir, 'reports', 'latest.txt'), 'utf8')).trim();
    const report = JSON.parse(await readFile(join(dir, 'reports', latest, 'report.json'), 'utf8')) as {
      cases: { id: string; outcome: string }[];
    };
    assert.deepEqual(
      report.cases.map((c) => [c.id, c.outcome]),
      [['stanza.frame.interop-version', 'fail']],
    );

    const again = await run([
      'run',
      '--reference-fault',
      'omit-interop-version',
      '--last-failed',
      '--reporter',
      'json',
      '--out',
      join(dir, 'reports'),
    ]);
    assert.equal(again.code, 1, again.stdout + again.stderr);
    const rerun = JSON.parse(
      await readFile(
        join(dir, 'reports', (await readFile(join(dir, 'reports', 'latest.txt'), 'utf8')).trim(), 'report.json'),
        'utf8',
      ),
    ) as {
      run: { filters: { cases: string[] } };
      cases: { id: string }[];
    };
    assert.deepEqual(
      rerun.run.filters.cases,
      ['stanza.frame.interop-version'],
      '--last-failed took the failed case of the newest report',
    );
    assert.deepEqual(
      rerun.cases.map((c) => c.id),
      ['stanza.frame.interop-version'],
    );
    const nothingBefore = await run(['run', '--last-failed', '--out', join(dir, 'nothing-here')]);
    assert.equal(nothingBefore.code, 2);
    oneLine(nothingBefore.stderr);
    assert.match(nothingBefore.stderr, /--last-failed: no earlier report under/);
    await mkdir(join(dir, 'no-json', 'run-1'), { recursive: true });
    await writeFile(join(dir, 'no-json', 'latest.txt'), 'run-1\n');
    const noJson = await run(['run', '--last-failed', '--out', join(dir, 'no-json')]);
    assert.equal(noJson.code, 2);
    oneLine(noJson.stderr);
    assert.match(
      noJson.stderr,
      /--last-failed: the newest run, .*run-1, has no report\.json; was the json reporter on\?/,
    );

    const fixed = await run([
      'run',
      '--grep',
      'frame\\.interop-version$',
      '--reporter',
      'json',
      '--out',
      join(dir, 'reports'),
      '--baseline',
      file,
    ]);
    assert.equal(fixed.code, 1, fixed.stdout + fixed.stderr);
    assert.match(fixed.stdout, /baseline: expected fail now passes: stanza\.frame\.interop-version/);

    const empty = join(dir, 'empty');
    await writeFile(file, JSON.stringify({ schemaVersion: 1, entries: [{ case: 'stanza.frame.interop-version' }] }));
    const malformed = await run([...failing.slice(0, -1), empty, '--baseline', file]);
    assert.equal(malformed.code, 2, malformed.stdout + malformed.stderr);
    oneLine(malformed.stderr);
    assert.ok(malformed.stderr.includes(`baseline ${file}: /entries/0 is missing`), malformed.stderr);
    await assert.rejects(readdir(empty), 'no report folder');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
