/**
 * The Signal side of a reference user's one device, in either session mode of the profile:
 * `classic` on libsignal 0.72.1 (X3DH, message version 3) or `pq` on libsignal 0.103 (PQXDH and
 * the triple ratchet, version 4). One identity and everything that hangs off it: a reinstall
 * replaces the whole device. The caller serializes operations per peer.
 */
import { createCipheriv, randomInt } from 'node:crypto';
import { DJB_KEY_TYPE } from '../protocol/constants.js';
import {
  MemoryIdentityStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
  NoKyberPreKeyStore,
  Signal,
} from '../protocol/signal-store.js';
import { messageKeysAt, sessionChains } from '../protocol/signal-chain.js';
import { PqIdentityStore, PqKyberPreKeyStore, PqPreKeyStore, PqSessionStore, PqSignedPreKeyStore, SignalPq } from '../protocol/signal-store-pq.js';
import type { EncType, KeyBundle, KyberPreKey, OneTimePreKey, SignedPreKey } from '../protocol/stanzas.js';
import type { PublishedKeys } from './directory.js';
import type { EncryptedMessage } from './types.js';

export type SessionMode = 'classic' | 'pq';

/** One device per user (ONE-DEVICE), so every address is device 1. */
const DEVICE_ID = 1;
const ONE_TIME_PREKEYS = 5;

export interface DeviceOptions {
  /** Publish a signed prekey whose signature does not verify (a bundle a provider must refuse). */
  readonly badSignedPreKeySignature?: boolean;
  /** Publish a Kyber prekey whose signature does not verify (`pq` only). */
  readonly badKyberPreKeySignature?: boolean;
}

export interface ReferenceDevice {
  readonly mode: SessionMode;
  /** Raw 32-byte identity key. */
  readonly identityKey: Uint8Array;
  readonly published: PublishedKeys;
  hasSession(peer: string): Promise<boolean>;
  /** The raw identity key last seen for `peer`, if any. */
  knownIdentity(peer: string): Promise<Uint8Array | null>;
  processBundle(bundle: KeyBundle): Promise<void>;
  encrypt(peer: string, plaintext: Uint8Array): Promise<EncryptedMessage>;
  /** Decrypts as the bytes parse (a mislabelled `type` is a check's business, not the reader's). */
  decrypt(peer: string, type: string | undefined, bytes: Uint8Array): Promise<Uint8Array>;
  /**
   * A SignalMessage `jump` steps past the next one on the sending chain, built from the chain's
   * state without advancing it (ENC-WINDOW); `classic` only.
   */
  encryptAhead(peer: string, plaintext: Uint8Array, jump: number): Promise<EncryptedMessage>;
}

const flipped = (signature: Uint8Array, bad: boolean | undefined): Uint8Array => {
  const out = new Uint8Array(signature);
  if (bad) out[10] = (out[10] ?? 0) ^ 0x01;
  return out;
};

/** Tries the declared kind first, then the other. */
function parseFirst<T>(order: readonly (() => T)[]): T {
  let firstError: unknown;
  for (const parse of order) {
    try {
      return parse();
    } catch (e) {
      firstError ??= e;
    }
  }
  throw firstError;
}

export async function newDevice(mode: SessionMode, options: DeviceOptions, onIdentityChange: (peer: string) => void): Promise<ReferenceDevice> {
  return mode === 'pq' ? newPqDevice(options, onIdentityChange) : newClassicDevice(options, onIdentityChange);
}

async function newClassicDevice(options: DeviceOptions, onIdentityChange: (peer: string) => void): Promise<ReferenceDevice> {
  const djb = (raw: Uint8Array): Signal.PublicKey => Signal.PublicKey.deserialize(Buffer.concat([Buffer.of(DJB_KEY_TYPE), raw]));
  const address = (peer: string): Signal.ProtocolAddress => Signal.ProtocolAddress.new(peer, DEVICE_ID);
  const identity = Signal.IdentityKeyPair.generate();
  const registrationId = randomInt(1, 16381);
  const identities = new MemoryIdentityStore(identity, registrationId, (peer) => {
    onIdentityChange(peer);
    return true;
  });
  const sessions = new MemorySessionStore();
  const preKeys = new MemoryPreKeyStore();
  const signedPreKeys = new MemorySignedPreKeyStore();
  const kyber = new NoKyberPreKeyStore();

  const spkId = randomInt(1, 0x1000000);
  const spk = Signal.PrivateKey.generate();
  const signature = identity.privateKey.sign(spk.getPublicKey().serialize());
  await signedPreKeys.saveSignedPreKey(spkId, Signal.SignedPreKeyRecord.new(spkId, Date.now(), spk.getPublicKey(), spk, signature));
  const signedPreKey: SignedPreKey = { id: spkId, publicKey: new Uint8Array(spk.getPublicKey().getPublicKeyBytes()), signature: flipped(signature, options.badSignedPreKeySignature) };
  const oneTimePreKeys: OneTimePreKey[] = [];
  const firstId = randomInt(1, 0x1000000 - ONE_TIME_PREKEYS);
  for (let id = firstId; id < firstId + ONE_TIME_PREKEYS; id++) {
    const k = Signal.PrivateKey.generate();
    await preKeys.savePreKey(id, Signal.PreKeyRecord.new(id, k.getPublicKey(), k));
    oneTimePreKeys.push({ id, publicKey: new Uint8Array(k.getPublicKey().getPublicKeyBytes()) });
  }
  const identityKey = new Uint8Array(identity.publicKey.getPublicKeyBytes());
  return {
    mode: 'classic',
    identityKey,
    published: { registrationId, identityKey, signedPreKey, oneTimePreKeys },
    hasSession: async (peer) => (await sessions.getSession(address(peer)))?.hasCurrentState() ?? false,
    knownIdentity: async (peer) => {
      const k = await identities.getIdentity(address(peer));
      return k ? new Uint8Array(k.getPublicKeyBytes()) : null;
    },
    processBundle: async (b) => {
      const pre = b.oneTimePreKey;
      const bundle = Signal.PreKeyBundle.new(b.registrationId, DEVICE_ID, pre?.id ?? null, pre ? djb(pre.publicKey) : null, b.signedPreKey.id, djb(b.signedPreKey.publicKey), Buffer.from(b.signedPreKey.signature), djb(b.identityKey));
      await Signal.processPreKeyBundle(bundle, address(b.jid), sessions, identities);
    },
    encrypt: async (peer, plaintext) => {
      const ct = await Signal.signalEncrypt(Buffer.from(plaintext), address(peer), sessions, identities);
      return { type: ct.type() === Signal.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg', ciphertext: new Uint8Array(ct.serialize()) };
    },
    encryptAhead: async (peer, plaintext, jump) => {
      const record = await sessions.getSession(address(peer));
      const chains = record && sessionChains(new Uint8Array(record.serialize()));
      const remote = await identities.getIdentity(address(peer));
      if (!chains?.sender || !remote) throw new Error(`no sending chain towards ${peer} to build ahead on`);
      const counter = chains.sender.index + jump;
      const keys = messageKeysAt(chains.sender, counter);
      const cipher = createCipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const ratchetKey = Signal.PublicKey.deserialize(Buffer.from(chains.sender.ratchetKey));
      const m = Signal.SignalMessage._new(3, keys.macKey, ratchetKey, counter, chains.previousCounter, body, identity.publicKey, remote);
      return { type: 'msg', ciphertext: new Uint8Array(m.serialize()) };
    },
    decrypt: async (peer, type, bytes) => {
      const buf = Buffer.from(bytes);
      const asPreKey = (): Signal.PreKeySignalMessage | Signal.SignalMessage => Signal.PreKeySignalMessage.deserialize(buf);
      const asMessage = (): Signal.PreKeySignalMessage | Signal.SignalMessage => Signal.SignalMessage.deserialize(buf);
      const m = parseFirst(type === 'msg' ? [asMessage, asPreKey] : [asPreKey, asMessage]);
      const plain =
        m instanceof Signal.PreKeySignalMessage
          ? await Signal.signalDecryptPreKey(m, address(peer), sessions, identities, preKeys, signedPreKeys, kyber)
          : await Signal.signalDecrypt(m, address(peer), sessions, identities);
      return new Uint8Array(plain);
    },
  };
}

async function newPqDevice(options: DeviceOptions, onIdentityChange: (peer: string) => void): Promise<ReferenceDevice> {
  const djb = (raw: Uint8Array): SignalPq.PublicKey => SignalPq.PublicKey.deserialize(Uint8Array.from([DJB_KEY_TYPE, ...raw]));
  const address = (peer: string): SignalPq.ProtocolAddress => SignalPq.ProtocolAddress.new(peer, DEVICE_ID);
  const identity = SignalPq.IdentityKeyPair.generate();
  const registrationId = randomInt(1, 16381);
  // libsignal 0.103 wants the local address too; jids are not ServiceIds, so no address binding
  // applies and the name does not enter the messages.
  const self = address('local');
  const identities = new PqIdentityStore(identity, registrationId, (peer) => {
    onIdentityChange(peer);
    return true;
  });
  const sessions = new PqSessionStore();
  const preKeys = new PqPreKeyStore();
  const signedPreKeys = new PqSignedPreKeyStore();
  const kyberStore = new PqKyberPreKeyStore();

  const spkId = randomInt(1, 0x1000000);
  const spk = SignalPq.PrivateKey.generate();
  const spkSignature = identity.privateKey.sign(spk.getPublicKey().serialize());
  await signedPreKeys.saveSignedPreKey(spkId, SignalPq.SignedPreKeyRecord.new(spkId, Date.now(), spk.getPublicKey(), spk, spkSignature));
  const kyberId = randomInt(1, 0x1000000);
  const kem = SignalPq.KEMKeyPair.generate();
  const kemSignature = identity.privateKey.sign(kem.getPublicKey().serialize());
  await kyberStore.saveKyberPreKey(kyberId, SignalPq.KyberPreKeyRecord.new(kyberId, Date.now(), kem, kemSignature));
  const oneTimePreKeys: OneTimePreKey[] = [];
  const firstId = randomInt(1, 0x1000000 - ONE_TIME_PREKEYS);
  for (let id = firstId; id < firstId + ONE_TIME_PREKEYS; id++) {
    const k = SignalPq.PrivateKey.generate();
    await preKeys.savePreKey(id, SignalPq.PreKeyRecord.new(id, k.getPublicKey(), k));
    oneTimePreKeys.push({ id, publicKey: k.getPublicKey().getPublicKeyBytes() });
  }
  const identityKey = identity.publicKey.getPublicKeyBytes();
  const kyberPreKey: KyberPreKey = { id: kyberId, publicKey: kem.getPublicKey().serialize(), signature: flipped(kemSignature, options.badKyberPreKeySignature) };
  return {
    mode: 'pq',
    identityKey,
    published: {
      registrationId,
      identityKey,
      signedPreKey: { id: spkId, publicKey: spk.getPublicKey().getPublicKeyBytes(), signature: flipped(spkSignature, options.badSignedPreKeySignature) },
      oneTimePreKeys,
      kyberPreKey,
    },
    hasSession: async (peer) => (await sessions.getSession(address(peer)))?.hasCurrentState() ?? false,
    knownIdentity: async (peer) => (await identities.getIdentity(address(peer)))?.getPublicKeyBytes() ?? null,
    processBundle: async (b) => {
      if (!b.kyberPreKey) throw new Error(`the bundle of ${b.jid} has no Kyber prekey: no pq session possible`);
      const pre = b.oneTimePreKey;
      const kyberKey = SignalPq.KEMPublicKey.deserialize(Uint8Array.from(b.kyberPreKey.publicKey));
      const bundle = SignalPq.PreKeyBundle.new(
        b.registrationId,
        DEVICE_ID,
        pre?.id ?? null,
        pre ? djb(pre.publicKey) : null,
        b.signedPreKey.id,
        djb(b.signedPreKey.publicKey),
        Uint8Array.from(b.signedPreKey.signature),
        djb(b.identityKey),
        b.kyberPreKey.id,
        kyberKey,
        Uint8Array.from(b.kyberPreKey.signature),
      );
      await SignalPq.processPreKeyBundle(bundle, address(b.jid), self, sessions, identities);
    },
    encrypt: async (peer, plaintext) => {
      const ct = await SignalPq.signalEncrypt(Uint8Array.from(plaintext), address(peer), self, sessions, identities);
      const type: EncType = ct.type() === SignalPq.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg';
      return { type, ciphertext: ct.serialize() };
    },
    encryptAhead: () => Promise.reject(new Error('building messages ahead is done in the classic mode only')),
    decrypt: async (peer, type, bytes) => {
      const buf = Uint8Array.from(bytes);
      const asPreKey = (): SignalPq.PreKeySignalMessage | SignalPq.SignalMessage => SignalPq.PreKeySignalMessage.deserialize(buf);
      const asMessage = (): SignalPq.PreKeySignalMessage | SignalPq.SignalMessage => SignalPq.SignalMessage.deserialize(buf);
      const m = parseFirst(type === 'msg' ? [asMessage, asPreKey] : [asPreKey, asMessage]);
      return m instanceof SignalPq.PreKeySignalMessage
        ? SignalPq.signalDecryptPreKey(m, address(peer), self, sessions, identities, preKeys, signedPreKeys, kyberStore)
        : SignalPq.signalDecrypt(m, address(peer), self, sessions, identities);
    },
  };
}
