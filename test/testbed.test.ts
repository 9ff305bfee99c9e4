/**
 * The check's testbed (checks/testbed.ts) on a real gatekeeper: a gatekeeper user comes in the case's
 * session mode unless the check asks for another, so a `pq` case never meets a classic peer by omission.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Testbed } from '../src/checks/testbed.js';
import type { CaseEnv } from '../src/core/runner.js';
import type { DriverClient } from '../src/driver/client.js';
import { startGatekeeper } from '../src/gatekeeper/gatekeeper.js';
import { generateTls } from '../src/gatekeeper/tls.js';
import type { Gatekeeper } from '../src/gatekeeper/types.js';

let gk: Gatekeeper;
before(async () => {
  gk = await startGatekeeper({ tls: await generateTls() });
});
after(() => gk.close());

/** A case's environment with what the Testbed touches when it makes gatekeeper users. */
function envOf(params: Record<string, unknown>): CaseEnv {
  return {
    spec: { params },
    signal: new AbortController().signal,
    step: () => {},
    record: () => {},
    defer: () => {},
  } as unknown as CaseEnv;
}

void test("a gatekeeper user is in the case's session mode unless the check names one", async () => {
  const testbed = (params: Record<string, unknown>) => new Testbed(gk, {} as DriverClient, envOf(params));
  assert.equal((await testbed({ mode: 'pq' }).gatekeeperUser()).mode, 'pq');
  assert.equal((await testbed({}).gatekeeperUser()).mode, 'classic');
  assert.equal((await testbed({ mode: 'pq' }).gatekeeperUser({ mode: 'classic' })).mode, 'classic');
});
