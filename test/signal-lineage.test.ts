/**
 * The harness's classic peers write WhatsApp's Signal version byte, 0x33 (src/protocol/signal-chain.ts
 * encryptClassic), and read what WhatsApp-lineage Signal writes. Proved against libsignal-node 6.0.0,
 * the Signal library of the Baileys client, in both directions: a prekey message, the reply, then
 * ordinary messages; and libsignal's own 0x34, which the lineage refuses.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { encryptClassic } from '../src/protocol/signal-chain.js';
import {
  MemoryIdentityStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
  NoKyberPreKeyStore,
  Signal,
} from '../src/protocol/signal-store.js';

interface KeyPair {
  readonly pubKey: Buffer;
  readonly privKey: Buffer;
}
interface LineageSignal {
  keyhelper: {
    generateIdentityKeyPair(): KeyPair;
    generateSignedPreKey(identity: KeyPair, id: number): { keyId: number; keyPair: KeyPair; signature: Buffer };
    generatePreKey(id: number): { keyId: number; keyPair: KeyPair };
  };
  ProtocolAddress: new (id: string, device: number) => { toString(): string };
  SessionBuilder: new (storage: unknown, address: unknown) => { initOutgoing(device: unknown): Promise<void> };
  SessionCipher: new (
    storage: unknown,
    address: unknown,
  ) => {
    encrypt(data: Buffer): Promise<{ type: number; body: Buffer }>;
    decryptPreKeyWhisperMessage(data: Buffer): Promise<Buffer>;
    decryptWhisperMessage(data: Buffer): Promise<Buffer>;
  };
}
const lineage = createRequire(import.meta.url)('libsignal') as LineageSignal;

/** A WhatsApp-lineage party: libsignal-node with in-memory storage, as Baileys keeps it. */
function lineageParty(registrationId: number) {
  const identity = lineage.keyhelper.generateIdentityKeyPair();
  const signed = lineage.keyhelper.generateSignedPreKey(identity, 9);
  const preKey = lineage.keyhelper.generatePreKey(31);
  const sessions = new Map<string, unknown>();
  const storage = {
    loadSession: async (id: string) => sessions.get(id),
    storeSession: async (id: string, record: unknown) => void sessions.set(id, record),
    isTrustedIdentity: async () => true,
    loadPreKey: async (id: number) => (id === preKey.keyId ? preKey.keyPair : undefined),
    removePreKey: async () => undefined,
    loadSignedPreKey: async () => signed.keyPair,
    getOurRegistrationId: async () => registrationId,
    getOurIdentity: async () => identity,
  };
  return { identity, signed, preKey, storage, registrationId };
}

async function pair() {
  const bob = lineageParty(0); // the lineage's generator gives 0..255, 0 included
  const identity = Signal.IdentityKeyPair.generate();
  const alice = {
    identity,
    sessions: new MemorySessionStore(),
    identities: new MemoryIdentityStore(identity, 4242, () => true),
    preKeys: new MemoryPreKeyStore(),
    signed: new MemorySignedPreKeyStore(),
  };
  const bobAddress = Signal.ProtocolAddress.new('bob@s.whatsapp.net', 1);
  const key = (k: Buffer): Signal.PublicKey => Signal.PublicKey.deserialize(k);
  const bundle = Signal.PreKeyBundle.new(
    bob.registrationId,
    1,
    bob.preKey.keyId,
    key(bob.preKey.keyPair.pubKey),
    bob.signed.keyId,
    key(bob.signed.keyPair.pubKey),
    bob.signed.signature,
    key(bob.identity.pubKey),
  );
  await Signal.processPreKeyBundle(bundle, bobAddress, alice.sessions, alice.identities);
  const bobCipher = new lineage.SessionCipher(bob.storage, new lineage.ProtocolAddress('alice', 1));
  const aliceAddress = Signal.ProtocolAddress.new('alice', 1);
  const aliceEncrypt = (text: string, options?: { libsignalVersion?: boolean }) =>
    encryptClassic(Buffer.from(text), bobAddress, alice.sessions, alice.identities, options);
  const aliceOpen = async (m: { type: number; body: Buffer }): Promise<string> => {
    const plain =
      m.type === 3
        ? await Signal.signalDecryptPreKey(
            Signal.PreKeySignalMessage.deserialize(m.body),
            bobAddress,
            alice.sessions,
            alice.identities,
            alice.preKeys,
            alice.signed,
            new NoKyberPreKeyStore(),
          )
        : await Signal.signalDecrypt(
            Signal.SignalMessage.deserialize(m.body),
            bobAddress,
            alice.sessions,
            alice.identities,
          );
    return plain.toString('utf8');
  };
  return { bobCipher, aliceEncrypt, aliceOpen, aliceAddress };
}

void test("libsignal-node reads the classic peers' prekey message and messages (0x33), and they read its own", async () => {
  const { bobCipher, aliceEncrypt, aliceOpen } = await pair();
  const first = await aliceEncrypt('first words');
  assert.equal(first.type, 'pkmsg');
  assert.equal(first.ciphertext[0], 0x33);
  assert.equal((await bobCipher.decryptPreKeyWhisperMessage(Buffer.from(first.ciphertext))).toString(), 'first words');
  // Messages in a row before any reply are still prekey messages, each MACed anew.
  const again = await aliceEncrypt('second words');
  assert.equal(again.type, 'pkmsg');
  assert.equal((await bobCipher.decryptPreKeyWhisperMessage(Buffer.from(again.ciphertext))).toString(), 'second words');

  const reply = await bobCipher.encrypt(Buffer.from('a reply'));
  assert.equal(reply.body[0], 0x33, 'the lineage writes 0x33 itself');
  assert.equal(await aliceOpen(reply), 'a reply');

  for (const text of ['then one', 'and another']) {
    const m = await aliceEncrypt(text);
    assert.equal(m.type, 'msg');
    assert.equal(m.ciphertext[0], 0x33);
    assert.equal((await bobCipher.decryptWhisperMessage(Buffer.from(m.ciphertext))).toString(), text);
  }
  const back = await bobCipher.encrypt(Buffer.from('and back'));
  assert.equal(await aliceOpen(back), 'and back');
});

void test("libsignal-node refuses libsignal's own version byte, 0x34: the interop risk the profile names", async () => {
  const { bobCipher, aliceEncrypt } = await pair();
  const first = await aliceEncrypt('first words', { libsignalVersion: true });
  assert.equal(first.ciphertext[0], 0x34);
  await assert.rejects(
    bobCipher.decryptPreKeyWhisperMessage(Buffer.from(first.ciphertext)),
    /Incompatible version number/,
  );
});
