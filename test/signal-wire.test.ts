/**
 * The harness reads Signal messages field by field (src/protocol/signal-wire.ts) to judge ratchet
 * keys, counters and where to tamper. Every field it reads is checked here against libsignal's own
 * accessors, and a flip at each region it names must make libsignal refuse the message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { macOffset, readPreKeySignalMessage, readSignalMessage } from '../src/protocol/signal-wire.js';
import { SignalSession } from '../src/reference-provider/client-session.js';
import { Signal } from '../src/protocol/signal-store.js';

async function twoParties(): Promise<{ alice: SignalSession; bob: SignalSession }> {
  const alice = new SignalSession(() => undefined);
  const bob = new SignalSession(() => undefined);
  const [oneTime] = await bob.newOneTimePreKeys(1);
  await alice.processBundle({
    jid: 'bob',
    registrationId: bob.registrationId,
    identityKey: bob.identityKey,
    signedPreKey: bob.signedPreKey,
    ...(oneTime ? { oneTimePreKey: oneTime } : {}),
  });
  return { alice, bob };
}

const flip = (bytes: Uint8Array, at: number, mask = 0x01): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  copy[at] = (copy[at] ?? 0) ^ mask;
  return copy;
};

void test('a prekey message reads as libsignal reads it, and its inner MAC is where the reader says', async () => {
  const { alice, bob } = await twoParties();
  const first = await alice.encrypt('bob', new TextEncoder().encode('hello'));
  assert.equal(first.type, 'pkmsg');
  const view = readPreKeySignalMessage(first.ciphertext);
  const lib = Signal.PreKeySignalMessage.deserialize(Buffer.from(first.ciphertext));
  assert.ok(view);
  assert.equal(view.version, 3);
  assert.equal(view.preKeyId, lib.preKeyId());
  assert.equal(view.signedPreKeyId, lib.signedPreKeyId());
  assert.equal(view.registrationId, lib.registrationId());
  assert.equal(view.message.counter, 0);
  await assert.rejects(bob.decrypt('alice', 'pkmsg', flip(first.ciphertext, macOffset(first.ciphertext) as number)));
  assert.deepEqual(new TextDecoder().decode(await bob.decrypt('alice', 'pkmsg', first.ciphertext)), 'hello');
});

void test('a SignalMessage reads as libsignal reads it; a flip in each region is refused', async () => {
  const { alice, bob } = await twoParties();
  await bob.decrypt('alice', 'pkmsg', (await alice.encrypt('bob', Uint8Array.of(1))).ciphertext);
  const reply = await bob.encrypt('alice', Uint8Array.of(2));
  const next = await bob.encrypt('alice', Uint8Array.of(3));
  assert.equal(reply.type, 'msg');
  const a = readSignalMessage(reply.ciphertext);
  const b = readSignalMessage(next.ciphertext);
  assert.ok(a && b);
  assert.equal(a.counter, Signal.SignalMessage.deserialize(Buffer.from(reply.ciphertext)).counter());
  assert.equal(b.counter, a.counter + 1);
  assert.deepEqual(a.ratchetKey, b.ratchetKey);
  assert.equal(a.ratchetKey.length, 33);
  assert.equal(a.mac.length, 8);
  for (const at of [0, a.offsets.ratchetKey + 5, a.offsets.ciphertext + 3, a.offsets.mac + 2]) {
    await assert.rejects(
      alice.decrypt('bob', 'msg', flip(reply.ciphertext, at, at === 0 ? 0x10 : 0x01)),
      `flip at ${at}`,
    );
  }
  assert.deepEqual([...(await alice.decrypt('bob', 'msg', reply.ciphertext))], [2]);
});

void test('bytes that are neither kind read as null', () => {
  assert.equal(readSignalMessage(Uint8Array.of(0x33, 0xff, 0xff)), null);
  assert.equal(readPreKeySignalMessage(Uint8Array.of(0x33, 0x0a, 0x05, 0x01)), null);
  assert.equal(macOffset(new Uint8Array(4)), null);
});
