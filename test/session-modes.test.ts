/**
 * A provider is held to the session modes and capabilities it declares: one that declares only
 * `classic` is never asked for `pq` (every pq case is a skip, never a fail), one without `groups`
 * or `session-export` is never asked for those, and the classic cases still pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { generateTls, type TlsMaterial } from '../src/gatekeeper/tls.js';
import { runConformance } from '../src/harness/run.js';
import { startReferenceProvider, type ReferenceProvider } from '../src/reference-provider/provider.js';

const token = randomBytes(16).toString('base64url');
let provider: ReferenceProvider;
let tls: TlsMaterial;

before(async () => {
  tls = await generateTls();
  provider = await startReferenceProvider({
    driverToken: token,
    sessionModes: ['classic'],
    capabilities: ['media-send'],
  });
});
after(() => provider.close());

/** The encryption cases matching `grep`, run against the classic-only provider. */
async function runEncryption(grep: string) {
  const { report } = await runConformance({
    provider: provider.url,
    token,
    selection: { suites: ['encryption'], grep, tags: [] },
    seed: 7,
    timeoutMs: 20_000,
    reporters: [],
    tls,
    // The provider runs on loopback, which a run refuses to fetch from unless told.
    allowPrivateTargets: true,
  });
  return report;
}

void test('a classic-only provider skips every pq case and passes the classic ones', async () => {
  const report = await runEncryption('session\\.outbound$|keys\\.kyber');
  const outcomes = Object.fromEntries(report.cases.map((c) => [c.id, c.outcome]));
  assert.deepEqual(outcomes, {
    'encryption.session.outbound': 'pass',
    'encryption.pq.session.outbound': 'skip',
    'encryption.pq.keys.kyber-prekey': 'skip',
  });
  assert.deepEqual((report.run.provider.discovery as { sessionModes: string[] }).sessionModes, ['classic']);
});

void test('a provider that declares neither groups nor session-export skips those cases, with the reason', async () => {
  const report = await runEncryption('group\\.distribution$|wire\\.forward');
  const outcomes = Object.fromEntries(report.cases.map((c) => [c.id, `${c.outcome}: ${c.message ?? ''}`]));
  assert.deepEqual(Object.keys(outcomes).sort(), [
    'encryption.group.distribution',
    'encryption.pq.group.distribution',
    'encryption.wire.forward-secrecy',
  ]);
  for (const [id, outcome] of Object.entries(outcomes)) assert.match(outcome, /^skip: .*(groups|session-export)/, id);
});
