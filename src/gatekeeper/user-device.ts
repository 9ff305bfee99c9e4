/**
 * The Signal side of a gatekeeper user's one device, in either session mode of the profile:
 * `classic` on libsignal 0.72.1 (X3DH, message version 3) or `pq` on libsignal 0.103 (PQXDH and
 * the triple ratchet, version 4). One identity and everything that hangs off it: a reinstall
 * replaces the whole device. The caller serializes operations per peer.
 */
import { randomInt } from 'node:crypto';
import { MAX_REGISTRATION_ID } from '../protocol/constants.js';
import { encryptAhead, encryptClassic, sessionChains } from '../protocol/signal-chain.js';
import {
  classicBundle,
  MemoryIdentityStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
  NoKyberPreKeyStore,
  Signal,
  signalAddress as address,
} from '../protocol/signal-store.js';
import {
  PqIdentityStore,
  PqKyberPreKeyStore,
  PqPreKeyStore,
  PqSessionStore,
  PqSignedPreKeyStore,
  pqAddress,
  pqBundle,
  SignalPq,
} from '../protocol/signal-store-pq.js';
import type { EncType, KeyBundle, KyberPreKey, OneTimePreKey, SignedPreKey } from '../protocol/stanzas.js';
import type { PublishedKeys } from './directory.js';
import type { EncryptedMessage } from './user-types.js';
import type { SessionMode } from '../protocol/driver-api.js';

const ONE_TIME_PREKEYS = 5;
const oneTimePreKeyCount = (options: DeviceOptions): number => (options.noOneTimePreKeys ? 0 : ONE_TIME_PREKEYS);

export interface DeviceOptions {
  /** Publish a signed prekey whose signature does not verify (a bundle a provider must refuse). */
  readonly badSignedPreKeySignature?: boolean;
  /** Publish a Kyber prekey whose signature does not verify (`pq` only). */
  readonly badKyberPreKeySignature?: boolean;
  /**
   * A registration id of the case's choosing. By default one drawn from 1..16383: 0 and ids past 14
   * bits come only where a case asks for them (KEYS-REGISTRATION), so no other case meets them by chance.
   */
  readonly registrationId?: number;
  /** Publish no one-time prekey, as a user whose stock the gatekeeper has run out of: a bundle holds none (KEYS-FETCH). */
  readonly noOneTimePreKeys?: boolean;
}

export interface GatekeeperDevice {
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

export async function newDevice(mode: SessionMode, options: DeviceOptions): Promise<GatekeeperDevice> {
  return mode === 'pq' ? newPqDevice(options) : newClassicDevice(options);
}

/** A peer's new identity key is accepted, as the gatekeeper's messenger does after a reinstall. */
const trustChanges = (): boolean => true;

async function newClassicDevice(options: DeviceOptions): Promise<GatekeeperDevice> {
  const identity = Signal.IdentityKeyPair.generate();
  const registrationId = options.registrationId ?? randomInt(1, MAX_REGISTRATION_ID + 1);
  const identities = new MemoryIdentityStore(identity, registrationId, trustChanges);
  const sessions = new MemorySessionStore();
  const preKeys = new MemoryPreKeyStore();
  const signedPreKeys = new MemorySignedPreKeyStore();
  const kyber = new NoKyberPreKeyStore();

  const spkId = randomInt(1, 0x1000000);
  const spk = Signal.PrivateKey.generate();
  const signature = identity.privateKey.sign(spk.getPublicKey().serialize());
  await signedPreKeys.saveSignedPreKey(
    spkId,
    Signal.SignedPreKeyRecord.new(spkId, Date.now(), spk.getPublicKey(), spk, signature),
  );
  const signedPreKey: SignedPreKey = {
    id: spkId,
    publicKey: new Uint8Array(spk.getPublicKey().getPublicKeyBytes()),
    signature: flipped(signature, options.badSignedPreKeySignature),
  };
  const oneTimePreKeys: OneTimePreKey[] = [];
  const firstId = randomInt(1, 0x1000000 - ONE_TIME_PREKEYS);
  for (let id = firstId; id < firstId + oneTimePreKeyCount(options); id++) {
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
      await Signal.processPreKeyBundle(classicBundle(b), address(b.jid), sessions, identities);
    },
    encrypt: (peer, plaintext) => encryptClassic(plaintext, address(peer), sessions, identities),
    encryptAhead: async (peer, plaintext, jump) => {
      const record = await sessions.getSession(address(peer));
      const chains = record && sessionChains(new Uint8Array(record.serialize()));
      const remote = await identities.getIdentity(address(peer));
      if (!chains || !remote) throw new Error(`no session with ${peer} to build ahead on`);
      return { type: 'msg', ciphertext: encryptAhead(chains, jump, plaintext, { local: identity.publicKey, remote }) };
    },
    decrypt: async (peer, type, bytes) => {
      const buf = Buffer.from(bytes);
      const asPreKey = (): Signal.PreKeySignalMessage | Signal.SignalMessage =>
        Signal.PreKeySignalMessage.deserialize(buf);
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

async function newPqDevice(options: DeviceOptions): Promise<GatekeeperDevice> {
  const address = pqAddress;
  const identity = SignalPq.IdentityKeyPair.generate();
  const registrationId = options.registrationId ?? randomInt(1, MAX_REGISTRATION_ID + 1);
  // libsignal 0.103 wants the local address too; jids are not ServiceIds, so no address binding
  // applies and the name does not enter the messages.
  const self = address('local');
  const identities = new PqIdentityStore(identity, registrationId, trustChanges);
  const sessions = new PqSessionStore();
  const preKeys = new PqPreKeyStore();
  const signedPreKeys = new PqSignedPreKeyStore();
  const kyberStore = new PqKyberPreKeyStore();

  const spkId = randomInt(1, 0x1000000);
  const spk = SignalPq.PrivateKey.generate();
  const spkSignature = identity.privateKey.sign(spk.getPublicKey().serialize());
  await signedPreKeys.saveSignedPreKey(
    spkId,
    SignalPq.SignedPreKeyRecord.new(spkId, Date.now(), spk.getPublicKey(), spk, spkSignature),
  );
  const kyberId = randomInt(1, 0x1000000);
  const kem = SignalPq.KEMKeyPair.generate();
  const kemSignature = identity.privateKey.sign(kem.getPublicKey().serialize());
  await kyberStore.saveKyberPreKey(kyberId, SignalPq.KyberPreKeyRecord.new(kyberId, Date.now(), kem, kemSignature));
  const oneTimePreKeys: OneTimePreKey[] = [];
  const firstId = randomInt(1, 0x1000000 - ONE_TIME_PREKEYS);
  for (let id = firstId; id < firstId + oneTimePreKeyCount(options); id++) {
    const k = SignalPq.PrivateKey.generate();
    await preKeys.savePreKey(id, SignalPq.PreKeyRecord.new(id, k.getPublicKey(), k));
    oneTimePreKeys.push({ id, publicKey: k.getPublicKey().getPublicKeyBytes() });
  }
  const identityKey = identity.publicKey.getPublicKeyBytes();
  const kyberPreKey: KyberPreKey = {
    id: kyberId,
    publicKey: kem.getPublicKey().serialize(),
    signature: flipped(kemSignature, options.badKyberPreKeySignature),
  };
  return {
    mode: 'pq',
    identityKey,
    published: {
      registrationId,
      identityKey,
      signedPreKey: {
        id: spkId,
        publicKey: spk.getPublicKey().getPublicKeyBytes(),
        signature: flipped(spkSignature, options.badSignedPreKeySignature),
      },
      oneTimePreKeys,
      kyberPreKey,
    },
    hasSession: async (peer) => (await sessions.getSession(address(peer)))?.hasCurrentState() ?? false,
    knownIdentity: async (peer) => (await identities.getIdentity(address(peer)))?.getPublicKeyBytes() ?? null,
    processBundle: async (b) => {
      await SignalPq.processPreKeyBundle(pqBundle(b), address(b.jid), self, sessions, identities);
    },
    encrypt: async (peer, plaintext) => {
      const ct = await SignalPq.signalEncrypt(Uint8Array.from(plaintext), address(peer), self, sessions, identities);
      const type: EncType = ct.type() === SignalPq.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg';
      return { type, ciphertext: ct.serialize() };
    },
    encryptAhead: () => Promise.reject(new Error('building messages ahead is done in the classic mode only')),
    decrypt: async (peer, type, bytes) => {
      const buf = Uint8Array.from(bytes);
      const asPreKey = (): SignalPq.PreKeySignalMessage | SignalPq.SignalMessage =>
        SignalPq.PreKeySignalMessage.deserialize(buf);
      const asMessage = (): SignalPq.PreKeySignalMessage | SignalPq.SignalMessage =>
        SignalPq.SignalMessage.deserialize(buf);
      const m = parseFirst(type === 'msg' ? [asMessage, asPreKey] : [asPreKey, asMessage]);
      return m instanceof SignalPq.PreKeySignalMessage
        ? SignalPq.signalDecryptPreKey(m, address(peer), self, sessions, identities, preKeys, signedPreKeys, kyberStore)
        : SignalPq.signalDecrypt(m, address(peer), self, sessions, identities);
    },
  };
}
