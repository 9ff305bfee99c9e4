/**
 * The harness computes Double Ratchet message keys outside libsignal (src/protocol/signal-chain.ts)
 * to build messages far along a chain. Proved here against libsignal itself: a message built at
 * any counter inside the window decrypts, and one past libsignal's 25 000-message jump does not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageKeysAt, openBody, encryptAhead, sessionChains } from '../src/protocol/signal-chain.js';
import {
  MemoryIdentityStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
  NoKyberPreKeyStore,
  Signal,
} from '../src/protocol/signal-store.js';

interface Party {
  readonly identity: Signal.IdentityKeyPair;
  readonly sessions: MemorySessionStore;
  readonly identities: MemoryIdentityStore;
  readonly preKeys: MemoryPreKeyStore;
  readonly signed: MemorySignedPreKeyStore;
  readonly address: Signal.ProtocolAddress;
}

function party(name: string): Party {
  const identity = Signal.IdentityKeyPair.generate();
  return {
    identity,
    sessions: new MemorySessionStore(),
    identities: new MemoryIdentityStore(identity, 7, () => true),
    preKeys: new MemoryPreKeyStore(),
    signed: new MemorySignedPreKeyStore(),
    address: Signal.ProtocolAddress.new(name, 1),
  };
}

async function session(): Promise<{ alice: Party; bob: Party }> {
  const alice = party('alice');
  const bob = party('bob');
  const spk = Signal.PrivateKey.generate();
  const sig = bob.identity.privateKey.sign(spk.getPublicKey().serialize());
  await bob.signed.saveSignedPreKey(1, Signal.SignedPreKeyRecord.new(1, Date.now(), spk.getPublicKey(), spk, sig));
  const bundle = Signal.PreKeyBundle.new(7, 1, null, null, 1, spk.getPublicKey(), sig, bob.identity.publicKey);
  await Signal.processPreKeyBundle(bundle, bob.address, alice.sessions, alice.identities);
  // A first exchange both ways, so that both sides hold ordinary chains.
  const first = await Signal.signalEncrypt(Buffer.from('hi'), bob.address, alice.sessions, alice.identities);
  await Signal.signalDecryptPreKey(
    Signal.PreKeySignalMessage.deserialize(first.serialize()),
    alice.address,
    bob.sessions,
    bob.identities,
    bob.preKeys,
    bob.signed,
    new NoKyberPreKeyStore(),
  );
  const reply = await Signal.signalEncrypt(Buffer.from('hello'), alice.address, bob.sessions, bob.identities);
  await Signal.signalDecrypt(
    Signal.SignalMessage.deserialize(reply.serialize()),
    bob.address,
    alice.sessions,
    alice.identities,
  );
  return { alice, bob };
}

/** What the harness does to send a message `jump` steps ahead along its sending chain. */
async function ahead(from: Party, to: Party, jump: number, text: string): Promise<Buffer> {
  const record = await from.sessions.getSession(to.address);
  const chains = sessionChains(new Uint8Array(record?.serialize() ?? []));
  assert.ok(chains?.sender);
  return Buffer.from(
    encryptAhead(chains, jump, Buffer.from(text, 'utf8'), {
      local: from.identity.publicKey,
      remote: to.identity.publicKey,
    }),
  );
}

const decrypt = async (to: Party, from: Party, bytes: Buffer): Promise<string> =>
  (
    await Signal.signalDecrypt(Signal.SignalMessage.deserialize(bytes), from.address, to.sessions, to.identities)
  ).toString('utf8');

void test('a message built ahead inside the window decrypts; the chains read as libsignal left them', async () => {
  const { alice, bob } = await session();
  assert.equal(await decrypt(bob, alice, await ahead(alice, bob, 1, 'one on')), 'one on');
  assert.equal(await decrypt(bob, alice, await ahead(alice, bob, 100, 'a hundred on')), 'a hundred on');
  // The genuine next message (counter 0) was skipped over: its key waits in Bob's session.
  const genuine = await Signal.signalEncrypt(Buffer.from('genuine'), bob.address, alice.sessions, alice.identities);
  assert.equal(await decrypt(bob, alice, genuine.serialize()), 'genuine');
});

void test('a message past the 25 000-message jump is refused, and the session goes on', async () => {
  const { alice, bob } = await session();
  await assert.rejects(decrypt(bob, alice, await ahead(alice, bob, 25_001, 'too far')));
  const genuine = await Signal.signalEncrypt(Buffer.from('still here'), bob.address, alice.sessions, alice.identities);
  assert.equal(await decrypt(bob, alice, genuine.serialize()), 'still here');
});

void test('the receiving side can open a message from its own chain state', async () => {
  const { alice, bob } = await session();
  // Bob learns the chain from a first message on it, then reads the next from his state alone.
  const opening = await Signal.signalEncrypt(Buffer.from('first'), bob.address, alice.sessions, alice.identities);
  await decrypt(bob, alice, opening.serialize());
  const sent = await Signal.signalEncrypt(Buffer.from('read me'), bob.address, alice.sessions, alice.identities);
  const record = await bob.sessions.getSession(alice.address);
  const chains = sessionChains(new Uint8Array(record?.serialize() ?? []));
  const m = Signal.SignalMessage.deserialize(sent.serialize());
  const chain = chains?.receivers.find((c) =>
    Buffer.from(c.ratchetKey).equals(Buffer.from(m.serialize().subarray(3, 36))),
  );
  assert.ok(chain, "a receiving chain for the message's ratchet key");
  assert.equal(openBody(messageKeysAt(chain, m.counter()), m.body()).toString('utf8'), 'read me');
});
