/**
 * A provider is held to the session modes it declares: one that declares only `classic` is never
 * asked for `pq` (every pq case is a skip, never a fail), and the classic cases still pass.
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
  provider = await startReferenceProvider({ driverToken: token, sessionModes: ['classic'] });
});
after(() => provider.close());

void test('a classic-only provider skips every pq case and passes the classic ones', async () => {
  const { report } = await runConformance({
    provider: provider.url,
    token,
    selection: { suites: ['encryption'], grep: 'session\\.outbound|keys\\.kyber', tags: [] },
    seed: 7,
    timeoutMs: 20_000,
    reporters: [],
    tls,
    // The provider runs on loopback, which a run refuses to fetch from unless told.
    allowPrivateTargets: true,
  });
  const outcomes = Object.fromEntries(report.cases.map((c) => [c.id, c.outcome]));
  assert.deepEqual(outcomes, {
    'encryption.session.outbound': 'pass',
    'encryption.pq.session.outbound': 'skip',
    'encryption.pq.keys.kyber-prekey': 'skip',
  });
  assert.deepEqual((report.run.provider.discovery as { sessionModes: string[] }).sessionModes, ['classic']);
});
