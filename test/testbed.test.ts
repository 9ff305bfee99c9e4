/**
 * The check's testbed (checks/testbed.ts) on a real gatekeeper: a gatekeeper user comes in the case's
 * session mode unless the check asks for another, so a `pq` case never meets a classic peer by omission.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Testbed } from '../src/checks/testbed.js';
import type { EvidenceEntry } from '../src/core/model.js';
import type { CaseEnv } from '../src/core/runner.js';
import type { DriverClient } from '../src/driver/client.js';
import { startGatekeeper } from '../src/gatekeeper/gatekeeper.js';
import { generateTls } from '../src/gatekeeper/tls.js';
import type { Gatekeeper, Refusal } from '../src/gatekeeper/types.js';
import { node } from '../src/protocol/node.js';

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

void test("a refusal sent to one of the case's users fails the case unless the check provoked it; another login's is not the case's", async () => {
  let emit: (r: Refusal) => void = () => {};
  const fake = {
    enlistUrl: 'https://127.0.0.1:1/3p/interop_reg',
    caCertPem: '',
    onFrame: () => () => {},
    onHttp: () => () => {},
    onClose: () => () => {},
    onRefusal: (listener: (r: Refusal) => void) => {
      emit = listener;
      return () => {};
    },
  } as unknown as Gatekeeper;
  const driver = {
    createUser: async () => ({ user: 'u1', identifier: '+491700000001' }),
    enlist: async () => ({ status: 'ok', login: '1-00000000000001@interop' }),
  } as unknown as DriverClient;
  const refused: string[] = [];
  const notes: string[] = [];
  const env = {
    ...envOf({}),
    refused: (m: string) => refused.push(m),
    record: (e: EvidenceEntry) => (e.kind === 'note' ? notes.push(e.text) : undefined),
  } as unknown as CaseEnv;
  const testbed = new Testbed(fake, driver, env);
  await testbed.enlistedOnce();
  testbed.expectRefusal('the case sends to a group the user left', (r) => r.condition === 'forbidden');
  const refusal = (login: string, condition: string): Refusal => ({
    at: Date.now(),
    connection: 'conn-1',
    login,
    element: node('receipt', { id: 'r1', to: '1@g.us' }),
    condition,
    answer: node('ack', { class: 'receipt', id: 'r1', error: condition }),
  });
  emit(refusal('1-00000000000001@interop', 'item-not-found'));
  emit(refusal('1-00000000000001@interop', 'forbidden'));
  emit(refusal('1-00000000000009@interop', 'item-not-found'));
  assert.deepEqual(refused, [
    'the gatekeeper refused <receipt id="r1" to="1@g.us"/> from 1-00000000000001@interop with item-not-found: <ack class="receipt" id="r1" error="item-not-found"/>',
  ]);
  assert.equal(notes.length, 1);
  assert.match(notes[0] ?? '', /with forbidden: .*, as the case provokes: the case sends to a group the user left$/);
});

void test('a send the case requires fails, saying the client refused; trySend hands the refusal to a check that wants it', async () => {
  const driver = {
    send: async () => ({ refused: 'the key bundle does not verify' }),
    react: async () => ({ refused: 'no' }),
  } as unknown as DriverClient;
  const user = new Testbed(gk, driver, envOf({})).driverUser({ user: 'u1', identifier: '+491700000001' });
  await assert.rejects(user.send('1@s.whatsapp.net', 'hi'), (e: Error & { expected?: string; actual?: string }) => {
    assert.equal(e.expected, 'the client to send a text to 1@s.whatsapp.net');
    assert.equal(e.actual, 'the client refused to send: the key bundle does not verify');
    return true;
  });
  await assert.rejects(user.react('1@s.whatsapp.net', 'm1', '👍'), /refused to send: no/);
  assert.deepEqual(await user.trySend('1@s.whatsapp.net', 'hi'), { refused: 'the key bundle does not verify' });
});
