/**
 * Certification packages on a synthetic run folder (no run needed): the signed manifest, and
 * `verify-report` from the command line naming each alteration precisely; `run --official` refusing
 * what a certification cannot hold before anything runs.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  canonicalText,
  keyFingerprint,
  publicKeyPem,
  sha256Hex,
  type Manifest,
} from '../src/certification/manifest.js';
import { certificationPackage } from '../src/certification/package.js';
import { schemaValidator } from '../src/core/json-schema.js';
import { createReporters, REPORTER_NAMES } from '../src/reporters/registry.js';
import { writeReportFiles } from '../src/reporters/write.js';
import { sampleReport } from './helpers/sample-report.js';
import { runCli as run } from './helpers/cli-run.js';

const newKey = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
let root: string;
let original: string;
let key: KeyObject;
let keyFile: string;

/** The sample report in every format, packaged and signed with `signer`, written under `name`. */
async function packaged(name: string, signer: KeyObject): Promise<string> {
  const report = sampleReport();
  const files = createReporters(REPORTER_NAMES, { out: { write: () => true }, color: false }).flatMap(
    (r) => r.onEnd?.(report) ?? [],
  );
  return writeReportFiles(join(root, name), report.run.id, certificationPackage(report, files, signer));
}

/** A fresh copy of the intact package, to alter. */
async function copy(name: string): Promise<string> {
  const dir = join(root, name);
  await cp(original, dir, { recursive: true });
  return dir;
}

const manifestOf = async (dir: string): Promise<Manifest> =>
  JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'certification-'));
  key = newKey();
  keyFile = join(root, 'public.pem');
  await writeFile(keyFile, publicKeyPem(key));
  original = await packaged('original', key);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

void test('a package holds the report, evidence, discovery, suite digests, versions and key, under a signed canonical digest', async () => {
  assert.deepEqual((await readdir(original)).sort(), [
    'certification.json',
    'discovery.json',
    'evidence.json',
    'junit.xml',
    'manifest.json',
    'public-key.pem',
    'report.html',
    'report.json',
    'summary.md',
    'summary.txt',
  ]);
  const manifest = await manifestOf(original);
  assert.equal(schemaValidator('certification-manifest.schema.json')(manifest), true);
  assert.deepEqual(
    manifest.files.map((f) => f.path),
    [...manifest.files.map((f) => f.path)].sort(),
  );
  for (const f of manifest.files) assert.equal(f.sha256, sha256Hex(await readFile(join(original, f.path))), f.path);
  assert.equal(manifest.digest, sha256Hex(manifest.files.map((f) => `${f.sha256}  ${f.path}\n`).join('')));
  assert.equal(canonicalText(manifest.files).split('\n')[0], `${manifest.files[0]?.sha256}  certification.json`);
  assert.equal(manifest.signature.keyFingerprint, keyFingerprint(key));
  const statement = JSON.parse(await readFile(join(original, 'certification.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(statement['harness'], { name: 'interop-conformance', version: '0.1.0' });
  assert.equal(statement['profileVersion'], '1.0');
  assert.deepEqual(statement['suites'], [
    { name: 'stanza', file: 'suites/stanza.json', sha256: 'a'.repeat(64), cases: 5 },
    { name: 'media', file: 'suites/media.json', sha256: 'b'.repeat(64), cases: 1 },
  ]);
  const discovery = JSON.parse(await readFile(join(original, 'discovery.json'), 'utf8')) as { discovery: unknown };
  assert.deepEqual(discovery.discovery, { capabilities: ['classic'] });
  const evidence = JSON.parse(await readFile(join(original, 'evidence.json'), 'utf8')) as {
    cases: { id: string; evidence: unknown[] }[];
  };
  assert.equal(evidence.cases.length, 6);
});

void test('verify-report: an intact package exits 0 and names the key, its own or the one given', async () => {
  const own = await run(['verify-report', original]);
  assert.equal(own.code, 0, own.stdout + own.stderr);
  assert.match(
    own.stdout,
    new RegExp(
      `intact: 9 files, digest sha256:[0-9a-f]{64}, signed by key ${keyFingerprint(key)} \\(the package's own public-key\\.pem; pass --public-key`,
    ),
  );
  const given = await run(['verify-report', original, '--public-key', keyFile]);
  assert.equal(given.code, 0, given.stdout + given.stderr);
  assert.match(given.stdout, /\(the key given\)/);
});

void test('verify-report: one byte changed in a file names the file and both digests', async () => {
  const dir = await copy('one-byte');
  const bytes = await readFile(join(dir, 'report.json'));
  bytes[100] = (bytes[100] as number) ^ 1;
  await writeFile(join(dir, 'report.json'), bytes);
  const r = await run(['verify-report', dir]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /ALTERED, 1 problem\n {2}changed: report\.json \(sha256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}…\)\n$/,
  );
});

void test('verify-report: a removed file and an added file are each named', async () => {
  const dir = await copy('removed-added');
  await unlink(join(dir, 'summary.md'));
  await writeFile(join(dir, 'extra.txt'), 'not signed');
  const r = await run(['verify-report', dir]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /ALTERED, 2 problems\n {2}added: extra\.txt \(not in the manifest\)\n {2}removed: summary\.md\n$/,
  );
});

void test('verify-report: another key, whether given or swapped into the package, is named', async () => {
  const other = newKey();
  const otherFile = join(root, 'other.pem');
  await writeFile(otherFile, publicKeyPem(other));
  const wrong = await run(['verify-report', original, '--public-key', otherFile]);
  assert.equal(wrong.code, 1);
  assert.ok(
    wrong.stdout.includes(
      `wrong key: the package is signed by key ${keyFingerprint(key)}, not by the given key ${keyFingerprint(other)}`,
    ),
    wrong.stdout,
  );

  const swapped = await copy('swapped-key');
  await writeFile(join(swapped, 'public-key.pem'), publicKeyPem(other));
  const r = await run(['verify-report', swapped]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /changed: public-key\.pem/);
  assert.ok(
    r.stdout.includes(
      `key mismatch: manifest.json names key ${keyFingerprint(key)}, public-key.pem holds ${keyFingerprint(other)}`,
    ),
    r.stdout,
  );

  // Re-signed whole by someone else: consistent in itself, so only the trusted key tells.
  const resigned = await packaged('resigned', other);
  assert.equal((await run(['verify-report', resigned])).code, 0);
  const told = await run(['verify-report', resigned, '--public-key', keyFile]);
  assert.equal(told.code, 1);
  assert.match(told.stdout, /wrong key: the package is signed by key sha256:[0-9a-f]{64}, not by the given key/);
});

void test('verify-report: an edited manifest is named: its file list, its digest, its signature, its JSON', async () => {
  const listed = await copy('edited-list');
  const m = await manifestOf(listed);
  const target = m.files.find((f) => f.path === 'summary.txt');
  assert.ok(target);
  await writeFile(join(listed, 'summary.txt'), 'a better verdict\n');
  (target as { sha256: string }).sha256 = sha256Hex('a better verdict\n');
  await writeFile(join(listed, 'manifest.json'), JSON.stringify(m));
  const r1 = await run(['verify-report', listed]);
  assert.equal(r1.code, 1);
  assert.match(
    r1.stdout,
    /ALTERED, 1 problem\n {2}manifest\.json edited: its file list hashes to [0-9a-f]{12}…, not to its digest [0-9a-f]{12}…\n$/,
  );

  const redigested = await copy('edited-digest');
  await writeFile(join(redigested, 'summary.txt'), 'a better verdict\n');
  const m2 = await manifestOf(redigested);
  const files = m2.files.map((f) => (f.path === 'summary.txt' ? { ...f, sha256: sha256Hex('a better verdict\n') } : f));
  await writeFile(
    join(redigested, 'manifest.json'),
    JSON.stringify({ ...m2, files, digest: sha256Hex(canonicalText(files)) }),
  );
  const r2 = await run(['verify-report', redigested]);
  assert.equal(r2.code, 1);
  assert.match(
    r2.stdout,
    new RegExp(
      `ALTERED, 1 problem\\n {2}signature invalid: key ${keyFingerprint(key)} did not sign the digest [0-9a-f]{12}…\\n$`,
    ),
  );

  const broken = await copy('edited-json');
  await appendFile(join(broken, 'manifest.json'), '}');
  const r3 = await run(['verify-report', broken]);
  assert.equal(r3.code, 1);
  assert.match(r3.stdout, /manifest\.json edited: not JSON/);

  const gone = await copy('no-manifest');
  await unlink(join(gone, 'manifest.json'));
  const r4 = await run(['verify-report', gone]);
  assert.equal(r4.code, 1);
  assert.match(r4.stdout, /removed: manifest\.json; without it nothing can be verified/);
});

void test('verify-report and run --official: usage errors exit 2 with one line, before anything runs', async () => {
  const nowhere = await run(['verify-report', join(root, 'nowhere')]);
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /^interop-conformance: cannot read the package folder .*nowhere/);
  const badKey = await run(['verify-report', original, '--public-key', join(original, 'summary.md')]);
  assert.equal(badKey.code, 2);
  assert.match(badKey.stderr, /--public-key .*summary\.md: not a PEM public key/);

  const out = join(root, 'official-refused');
  const filtered = await run([
    'run',
    '--official',
    '--suite',
    'stanza',
    '--grep',
    'ack',
    '--tag',
    'x',
    '--shard',
    '1/2',
    '--last-failed',
    '--bail',
    '--out',
    out,
  ]);
  assert.equal(filtered.code, 2);
  assert.equal(
    filtered.stderr,
    'interop-conformance: --official runs every case and is judged on its own: drop --suite, --grep, --tag, --shard, --last-failed, --bail (a certification package holds no filtered, stopped or baselined run)\n',
  );
  const baselined = await run([
    'run',
    '--official',
    '--baseline',
    'b.json',
    '--update-baseline',
    'c.json',
    '--out',
    out,
  ]);
  assert.equal(baselined.code, 2);
  assert.match(baselined.stderr, /drop --baseline, --update-baseline \(/);
  const keyless = await run(['run', '--signing-key', keyFile, '--out', out]);
  assert.equal(keyless.code, 2);
  assert.match(keyless.stderr, /--signing-key signs the package of an official run: add --official/);
  const rsa = join(root, 'rsa.pem');
  await writeFile(
    rsa,
    generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const notEd = await run(['run', '--official', '--signing-key', rsa, '--out', out]);
  assert.equal(notEd.code, 2);
  assert.match(notEd.stderr, /--signing-key .*rsa\.pem: an rsa key; the package is signed with Ed25519/);
  await assert.rejects(readdir(out), 'nothing ran, nothing written');
});
