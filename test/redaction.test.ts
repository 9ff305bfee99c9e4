/**
 * No secret the run handles reaches any output file. One real run of the suites that handle every
 * kind (enlistment: ownership proofs and auth keys; media: media keys; all: the driver token), with
 * a planted driver token, written as a certification package; the secrets the run really used are
 * harvested from the gatekeeper as they pass, unredacted; then every file of the run folder and the
 * folder root is scanned for each, in clear and as base64, base64url and hex.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certificationPackage } from '../src/certification/package.js';
import type { EnlistmentControl, Media, MediaFetch, Observation } from '../src/gatekeeper/types.js';
import { redact } from '../src/core/redact.js';
import { runConformance } from '../src/harness/run.js';
import { createReporters, REPORTER_NAMES } from '../src/reporters/registry.js';

type Kind = 'driver token' | 'proof signature' | 'proof' | 'auth key' | 'media key';

/** Every spelling of a secret a file could carry: its text, and its bytes in the common encodings. */
function spellings(text: string, bytes: Buffer): string[] {
  const b64 = bytes.toString('base64');
  return [
    ...new Set([
      text,
      b64,
      b64.replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
    ]),
  ];
}

class Secrets {
  readonly found = new Map<string, { kind: Kind; spellings: string[] }>();

  add(kind: Kind, text: string, bytes = Buffer.from(text, 'utf8')): void {
    if (text.length >= 16 && !this.found.has(text)) this.found.set(text, { kind, spellings: spellings(text, bytes) });
  }

  /** An ownership proof (a compact JWS): whole, and its signature alone. */
  proof(jws: string): void {
    this.add('proof', jws);
    const signature = jws.split('.')[2];
    if (signature) this.add('proof signature', signature, Buffer.from(signature, 'base64url'));
  }

  kinds(): Set<Kind> {
    return new Set([...this.found.values()].map((s) => s.kind));
  }

  watch(gatekeeper: EnlistmentControl & Observation & Media): void {
    gatekeeper.onEnlistRequest((r) => {
      const form = new URLSearchParams(r.body);
      const token = form.get('token');
      const authkey = form.get('authkey');
      if (token) this.proof(token);
      if (authkey) this.add('auth key', authkey, Buffer.from(authkey, 'base64url'));
    });
    gatekeeper.onFrame((f) => {
      for (const m of f.text.matchAll(/\b(token|authkey)="([^"]+)"/g)) {
        const [, name, value] = m as unknown as [string, string, string];
        if (name === 'token') this.proof(value);
        else this.add('auth key', value, Buffer.from(value, 'base64url'));
      }
    });
    // The media keys of what the provider's users send: the proxy verifies each download with one.
    const proxy = gatekeeper.mediaProxy as { fetch(req: MediaFetch): Promise<unknown> };
    const fetch = proxy.fetch.bind(proxy);
    proxy.fetch = (req: MediaFetch) => {
      if (req.verify)
        this.add('media key', Buffer.from(req.verify.mediaKey).toString('base64'), Buffer.from(req.verify.mediaKey));
      return fetch(req);
    };
  }
}

void test(
  'no output file of a run, package included, holds a secret the run handled, in any common encoding',
  { timeout: 240_000 },
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'redaction-'));
    try {
      const secrets = new Secrets();
      const token = `planted-driver-token-${randomBytes(12).toString('hex')}`;
      secrets.add('driver token', token);
      const signingKey = generateKeyPairSync('ed25519').privateKey;
      const outcome = await runConformance({
        token,
        selection: { suites: ['enlistment', 'media'], tags: [] },
        seed: 7,
        timeoutMs: 20_000,
        reporters: createReporters(REPORTER_NAMES, { out: { write: () => true }, color: false }),
        outDir: out,
        certify: (report, files) => certificationPackage(report, files, signingKey),
        watch: (gatekeeper) => secrets.watch(gatekeeper),
      });
      assert.equal(outcome.report.summary.conformant, true, 'a clean run');
      assert.deepEqual(
        [...secrets.kinds()].sort(),
        ['auth key', 'driver token', 'media key', 'proof', 'proof signature'],
        'the run handled every kind',
      );
      assert.ok(outcome.dir);

      const files = [
        join(out, 'latest.txt'),
        ...(await readdir(outcome.dir)).map((f) => join(outcome.dir as string, f)),
      ];
      assert.ok(files.length >= 10, 'the reports and the package');
      // One line per file and kind, with how many of that kind leaked and the first one's start.
      const leaks = new Map<string, { count: number; first: string }>();
      for (const file of files) {
        const content = await readFile(file, 'latin1');
        for (const { kind, spellings: all } of secrets.found.values()) {
          const hit = all.find((s) => content.includes(s));
          if (hit === undefined) continue;
          const key = `${file.slice(out.length + 1).replace(/^[^/]+\//, '')}: ${kind}`;
          const seen = leaks.get(key);
          leaks.set(key, { count: (seen?.count ?? 0) + 1, first: seen?.first ?? `${hit.slice(0, 16)}…` });
        }
      }
      const lines = [...leaks].map(([key, { count, first }]) => `${key} ×${count} (${first})`);
      assert.deepEqual(lines, [], `secrets in clear among ${secrets.found.size} planted or harvested`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);

void test('redact masks proof signatures, bearer tokens and authkeys in stanzas, forms, URLs and JSON', () => {
  const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIrMTIzIn0.c2lnbmF0dXJl';
  assert.equal(
    redact(`<open token="${jwt}" authkey="AAAAbbbbCCCC_-"/>`),
    '<open token="eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIrMTIzIn0.[redacted]" authkey="[redacted]"/>',
  );
  assert.equal(
    redact(`token=${jwt}&authkey=AAAAbbbb-_&e_ident=x`),
    'token=eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIrMTIzIn0.[redacted]&authkey=[redacted]&e_ident=x',
  );
  assert.equal(redact('https://gk.test/x?authkey=zzz&a=1'), 'https://gk.test/x?authkey=[redacted]&a=1');
  assert.equal(redact('{"authKey": "zzz", "other": "kept"}'), '{"authKey": "[redacted]", "other": "kept"}');
  assert.equal(redact('authorization: Bearer abc.def-ghi'), 'authorization: Bearer [redacted]');
  assert.equal(
    redact('WWW-Authenticate: Bearer error="invalid_token"'),
    'WWW-Authenticate: Bearer error="invalid_token"',
    "a challenge's parameter is no credential",
  );
  assert.equal(redact('{"authorization": "Bearer abc.def="}'), '{"authorization": "Bearer [redacted]"}');
  assert.equal(redact('an authkey differs'), 'an authkey differs', 'the word alone is not a secret');
});
