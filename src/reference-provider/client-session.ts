/**
 * One provider user's Signal state in the profile's `classic` mode (X3DH and the Double Ratchet,
 * message version 3, on libsignal 0.72.1): its identity, its prekeys, and its sessions with peers.
 */
import { randomInt } from 'node:crypto';
import { readSignalMessage } from '../protocol/signal-wire.js';
import type { EncType, KeyBundle, OneTimePreKey, SignedPreKey } from '../protocol/stanzas.js';
import type { FaultSet } from './faults.js';
import {
  MemoryIdentityStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
  NoKyberPreKeyStore,
  Signal,
} from '../protocol/signal-store.js';

/** One device per provider user (DESIGN.md §1), so every address uses the same device id. */
const DEVICE_ID = 1;
/** Prekey ids travel as 3 bytes (KEYS-UPLOAD); 0 is avoided as some stores treat it as "none". */
const MAX_PREKEY_ID = 0xffffff;
/** libsignal's registration ids are 14-bit. */
const MAX_REGISTRATION_ID = 16380;

const DJB_PREFIX = Buffer.of(0x05);
/** libsignal wants the 33-byte serialized form; the wire carries the raw 32 bytes. */
const publicKeyFromRaw = (raw: Uint8Array): Signal.PublicKey => Signal.PublicKey.deserialize(Buffer.concat([DJB_PREFIX, raw]));
const address = (peer: string): Signal.ProtocolAddress => Signal.ProtocolAddress.new(peer, DEVICE_ID);
/** SAFETY-NUMBER: the parameters both sides use, so that both compute the same 60 digits. */
const FINGERPRINT_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 1;

/** A message libsignal has already decrypted once (ENC-REPLAY): not a failure, a duplicate. */
export class DuplicateMessage extends Error {
  override readonly name = 'DuplicateMessage';
}

export class SignalSession {
  readonly registrationId = randomInt(1, MAX_REGISTRATION_ID + 1);
  private readonly identity = Signal.IdentityKeyPair.generate();
  private readonly identities: MemoryIdentityStore;
  private readonly sessions = new MemorySessionStore();
  private readonly preKeys: MemoryPreKeyStore;
  private readonly signedPreKeys = new MemorySignedPreKeyStore();
  private readonly kyberPreKeys = new NoKyberPreKeyStore();
  private nextPreKeyId = randomInt(1, MAX_PREKEY_ID);
  /** The tail of each peer's queue of libsignal operations. */
  private readonly queues = new Map<string, Promise<unknown>>();
  readonly signedPreKey: SignedPreKey;
  /** The highest counter received per peer and ratchet key: only the `drop-out-of-order` fault reads it. */
  private readonly highestCounter = new Map<string, number>();

  /** `onIdentityChange` hears of a peer whose identity key changed; the new key is trusted. */
  constructor(
    onIdentityChange: (peer: string) => void,
    private readonly faults: FaultSet = new Set(),
  ) {
    this.preKeys = new MemoryPreKeyStore(!faults.has('reuse-one-time-prekey'));
    // Trust on first use; a changed key is accepted but raised to the user (an event in the driver).
    this.identities = new MemoryIdentityStore(this.identity, this.registrationId, (peer) => {
      onIdentityChange(peer);
      return true;
    });
    const id = randomInt(1, MAX_PREKEY_ID + 1);
    const key = Signal.PrivateKey.generate();
    // XEdDSA over 0x05 ‖ key: the serialized public key is exactly that.
    const signature = this.identity.privateKey.sign(key.getPublicKey().serialize());
    this.signedPreKeys.records.set(id, Signal.SignedPreKeyRecord.new(id, Date.now(), key.getPublicKey(), key, signature));
    this.signedPreKey = { id, publicKey: new Uint8Array(key.getPublicKey().getPublicKeyBytes()), signature: new Uint8Array(signature) };
    if (faults.has('bad-signed-prekey-signature')) {
      this.uploadedSignedPreKey = { ...this.signedPreKey, signature: new Uint8Array(this.identity.privateKey.sign(Buffer.from(this.signedPreKey.publicKey))) };
    } else this.uploadedSignedPreKey = this.signedPreKey;
  }

  /** What KEYS-UPLOAD publishes; the same as the enlisted key, but for a fault. */
  readonly uploadedSignedPreKey: SignedPreKey;

  /** The raw 32-byte identity key. */
  get identityKey(): Uint8Array {
    return new Uint8Array(this.identity.publicKey.getPublicKeyBytes());
  }

  /** Fresh one-time prekeys, stored for the prekey messages that will use them. */
  async newOneTimePreKeys(count: number): Promise<OneTimePreKey[]> {
    const out: OneTimePreKey[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.nextPreKeyId;
      this.nextPreKeyId = (id % MAX_PREKEY_ID) + 1;
      const key = Signal.PrivateKey.generate();
      if (!this.faults.has('forget-one-time-prekeys')) await this.preKeys.savePreKey(id, Signal.PreKeyRecord.new(id, key.getPublicKey(), key));
      out.push({ id, publicKey: new Uint8Array(key.getPublicKey().getPublicKeyBytes()) });
    }
    return out;
  }

  /**
   * Runs `op` after every earlier operation on `peer` has finished. libsignal has no locking: two
   * concurrent encryptions reuse a counter, two concurrent decryptions let a replay through
   * (research/libsignal.md §2).
   */
  serialized<T>(peer: string, op: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(peer) ?? Promise.resolve()).then(op, op);
    const tail = run.catch(() => undefined);
    this.queues.set(peer, tail);
    void tail.then(() => {
      if (this.queues.get(peer) === tail) this.queues.delete(peer);
    });
    return run;
  }

  // The methods below assume the caller holds the peer's queue (serialized).

  async hasSession(peer: string): Promise<boolean> {
    const record = await this.sessions.getSession(address(peer));
    return record?.hasCurrentState() ?? false;
  }

  async processBundle(bundle: KeyBundle): Promise<void> {
    const pre = bundle.oneTimePreKey;
    const libBundle = Signal.PreKeyBundle.new(
      bundle.registrationId,
      DEVICE_ID,
      pre?.id ?? null,
      pre ? publicKeyFromRaw(pre.publicKey) : null,
      bundle.signedPreKey.id,
      publicKeyFromRaw(bundle.signedPreKey.publicKey),
      Buffer.from(bundle.signedPreKey.signature),
      publicKeyFromRaw(bundle.identityKey),
    );
    await Signal.processPreKeyBundle(libBundle, address(bundle.jid), this.sessions, this.identities);
  }

  async encrypt(peer: string, plaintext: Uint8Array): Promise<{ type: EncType; ciphertext: Uint8Array }> {
    const message = await Signal.signalEncrypt(Buffer.from(plaintext), address(peer), this.sessions, this.identities);
    const type: EncType = message.type() === Signal.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg';
    return { type, ciphertext: new Uint8Array(message.serialize()) };
  }

  async decrypt(peer: string, type: EncType, ciphertext: Uint8Array): Promise<Uint8Array> {
    const before = this.faults.has('forget-ratchet-state') ? await this.sessions.getSession(address(peer)) : null;
    if (this.faults.has('drop-out-of-order')) this.dropOutOfOrder(peer, type, ciphertext);
    try {
      const plaintext = await this.decryptNow(peer, type, Buffer.from(ciphertext));
      if (before) await this.sessions.saveSession(address(peer), before);
      return plaintext;
    } catch (e) {
      if ((e as { code?: unknown }).code === Signal.ErrorCode.DuplicatedMessage) throw new DuplicateMessage((e as Error).message);
      if (this.faults.has('reset-session-on-error')) this.sessions.removeSession(address(peer));
      throw e;
    }
  }

  /** SAFETY-NUMBER: the 60 digits for this user (`login`) and `peer`, from the identity key last seen for it. */
  async safetyNumber(login: string, peer: string): Promise<string | null> {
    const remote = await this.identities.getIdentity(address(peer));
    if (!remote) return null;
    const iterations = this.faults.has('wrong-safety-number') ? 1024 : FINGERPRINT_ITERATIONS;
    const fingerprint = Signal.Fingerprint.new(iterations, FINGERPRINT_VERSION, Buffer.from(login, 'utf8'), this.identity.publicKey, Buffer.from(peer, 'utf8'), remote);
    return fingerprint.displayableFingerprint().toString();
  }

  private async decryptNow(peer: string, type: EncType, bytes: Buffer): Promise<Uint8Array> {
    const plaintext =
      type === 'pkmsg'
        ? await Signal.signalDecryptPreKey(
            Signal.PreKeySignalMessage.deserialize(bytes),
            address(peer),
            this.sessions,
            this.identities,
            this.preKeys,
            this.signedPreKeys,
            this.kyberPreKeys,
          )
        : await Signal.signalDecrypt(Signal.SignalMessage.deserialize(bytes), address(peer), this.sessions, this.identities);
    return new Uint8Array(plaintext);
  }

  /** The naive anti-replay of the `drop-out-of-order` fault: a lower counter on a known chain is refused. */
  private dropOutOfOrder(peer: string, type: EncType, ciphertext: Uint8Array): void {
    if (type !== 'msg') return;
    const m = readSignalMessage(ciphertext);
    if (!m) return;
    const key = `${peer}\0${Buffer.from(m.ratchetKey).toString('hex')}`;
    const highest = this.highestCounter.get(key) ?? -1;
    if (m.counter < highest) throw new Error(`counter ${m.counter} is below ${highest}: dropped as out of order`);
    this.highestCounter.set(key, m.counter);
  }
}
