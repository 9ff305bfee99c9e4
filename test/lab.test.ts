/**
 * The check's workbench (checks/lab.ts) on a real gatekeeper: a reference user comes in the case's
 * session mode unless the check asks for another, so a `pq` case never meets a classic peer by omission.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab } from '../src/checks/lab.js';
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

/** A case's environment with what the Lab touches when it makes reference users. */
function envOf(params: Record<string, unknown>): CaseEnv {
  return {
    spec: { params },
    signal: new AbortController().signal,
    step: () => {},
    record: () => {},
    defer: () => {},
  } as unknown as CaseEnv;
}

void test("a reference user is in the case's session mode unless the check names one", async () => {
  const lab = (params: Record<string, unknown>) => new Lab(gk, {} as DriverClient, envOf(params));
  assert.equal((await lab({ mode: 'pq' }).referenceUser()).mode, 'pq');
  assert.equal((await lab({}).referenceUser()).mode, 'classic');
  assert.equal((await lab({ mode: 'pq' }).referenceUser({ mode: 'classic' })).mode, 'classic');
});
