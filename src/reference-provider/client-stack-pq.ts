/**
 * The `pq` stack: libsignal 0.103, PQXDH and the triple ratchet, message version 4. It also holds
 * the user's last-resort Kyber prekey, whose replays the store refuses (PREKEY-KYBER-REPLAY).
 */
import {
  PqIdentityStore,
  PqKyberPreKeyStore,
  PqPreKeyStore,
  PqSessionStore,
  PqSignedPreKeyStore,
  pqAddress as address,
  pqBundle,
  SignalPq,
} from '../protocol/signal-store-pq.js';
import type { KeyBundle, KyberPreKey } from '../protocol/stanzas.js';
import { DuplicateMessage, isDuplicate, type SharedKeys, type SignalStack } from './client-stack.js';

/** libsignal 0.103 takes the local address too; jids are not ServiceIds, so it binds nothing. */
const SELF = address('self');

export interface PqOptions {
  readonly deletePreKeysOnUse: boolean;
  readonly spendPreKeysOnLoad: boolean;
  readonly refuseKyberReplay: boolean;
}

export class PqStack implements SignalStack {
  private readonly identities: PqIdentityStore;
  private readonly sessions = new PqSessionStore();
  private readonly preKeys: PqPreKeyStore;
  private readonly signedPreKeys = new PqSignedPreKeyStore();
  private readonly kyber: PqKyberPreKeyStore;
  /** The last-resort Kyber prekey KEYS-UPLOAD publishes. */
  readonly kyberPreKey: KyberPreKey;

  constructor(keys: SharedKeys, onIdentityChange: (peer: string) => boolean, kyberId: number, options: PqOptions) {
    const identity = SignalPq.IdentityKeyPair.deserialize(Uint8Array.from(keys.identityPair));
    this.identities = new PqIdentityStore(identity, keys.registrationId, onIdentityChange, keys.identities);
    this.preKeys = new PqPreKeyStore(options.deletePreKeysOnUse, options.spendPreKeysOnLoad);
    this.kyber = new PqKyberPreKeyStore(options.refuseKyberReplay);
    const spk = SignalPq.PrivateKey.deserialize(Uint8Array.from(keys.signedPreKey.privateKey));
    const { id, signature } = keys.signedPreKey;
    this.signedPreKeys.records.set(
      id,
      SignalPq.SignedPreKeyRecord.new(id, Date.now(), spk.getPublicKey(), spk, Uint8Array.from(signature)),
    );
    const kem = SignalPq.KEMKeyPair.generate();
    // XEdDSA over the serialized Kyber key, type byte included, as for the signed prekey.
    const kemSignature = identity.privateKey.sign(kem.getPublicKey().serialize());
    this.kyber.records.set(kyberId, SignalPq.KyberPreKeyRecord.new(kyberId, Date.now(), kem, kemSignature));
    this.kyberPreKey = { id: kyberId, publicKey: kem.getPublicKey().serialize(), signature: kemSignature };
  }

  async hasSession(peer: string): Promise<boolean> {
    return (await this.sessions.getSession(address(peer)))?.hasCurrentState() ?? false;
  }

  async knownIdentity(peer: string): Promise<Uint8Array | null> {
    return (await this.identities.getIdentity(address(peer)))?.getPublicKeyBytes() ?? null;
  }

  async processBundle(b: KeyBundle): Promise<void> {
    await SignalPq.processPreKeyBundle(pqBundle(b), address(b.jid), SELF, this.sessions, this.identities);
  }

  async encrypt(peer: string, plaintext: Uint8Array): ReturnType<SignalStack['encrypt']> {
    const m = await SignalPq.signalEncrypt(
      Uint8Array.from(plaintext),
      address(peer),
      SELF,
      this.sessions,
      this.identities,
    );
    return { type: m.type() === SignalPq.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg', ciphertext: m.serialize() };
  }

  async decrypt(peer: string, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<Uint8Array> {
    const bytes = Uint8Array.from(ciphertext);
    try {
      return type === 'pkmsg'
        ? await SignalPq.signalDecryptPreKey(
            SignalPq.PreKeySignalMessage.deserialize(bytes),
            address(peer),
            SELF,
            this.sessions,
            this.identities,
            this.preKeys,
            this.signedPreKeys,
            this.kyber,
          )
        : await SignalPq.signalDecrypt(
            SignalPq.SignalMessage.deserialize(bytes),
            address(peer),
            SELF,
            this.sessions,
            this.identities,
          );
    } catch (e) {
      if (isDuplicate(e, SignalPq.ErrorCode.DuplicatedMessage)) throw new DuplicateMessage((e as Error).message);
      throw e;
    }
  }

  async snapshot(peer: string): Promise<Uint8Array | null> {
    return (await this.sessions.getSession(address(peer)))?.serialize() ?? null;
  }

  async restore(peer: string, record: Uint8Array): Promise<void> {
    await this.sessions.saveSession(address(peer), SignalPq.SessionRecord.deserialize(Uint8Array.from(record)));
  }

  removeSession(peer: string): void {
    this.sessions.removeSession(address(peer));
  }

  async savePreKey(id: number, privateKey: Uint8Array): Promise<void> {
    const k = SignalPq.PrivateKey.deserialize(Uint8Array.from(privateKey));
    await this.preKeys.savePreKey(id, SignalPq.PreKeyRecord.new(id, k.getPublicKey(), k));
  }
}
