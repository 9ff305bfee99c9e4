/** The `classic` stack: libsignal 0.72.1, X3DH and the Double Ratchet, message version 3. */
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
import { encryptClassic } from '../protocol/signal-chain.js';
import type { KeyBundle } from '../protocol/stanzas.js';
import { DuplicateMessage, isDuplicate, type SharedKeys, type SignalStack } from './client-stack.js';

export class ClassicStack implements SignalStack {
  private readonly identities: MemoryIdentityStore;
  private readonly sessions = new MemorySessionStore();
  private readonly preKeys: MemoryPreKeyStore;
  private readonly signedPreKeys = new MemorySignedPreKeyStore();
  private readonly kyber = new NoKyberPreKeyStore();

  constructor(
    keys: SharedKeys,
    onIdentityChange: (peer: string) => boolean,
    private readonly options: {
      readonly deletePreKeysOnUse: boolean;
      readonly spendPreKeysOnLoad: boolean;
      /**
       * Send libsignal's own version byte, 0x34, instead of WhatsApp's 0x33: the `libsignal-version-byte`
       * fault, asked after at each encryption, so that the kill matrix runs it over the cases that send.
       */
      readonly libsignalVersion: () => boolean;
    },
  ) {
    const identity = Signal.IdentityKeyPair.deserialize(Buffer.from(keys.identityPair));
    this.identities = new MemoryIdentityStore(identity, keys.registrationId, onIdentityChange, keys.identities);
    this.preKeys = new MemoryPreKeyStore(options.deletePreKeysOnUse, options.spendPreKeysOnLoad);
    const spk = Signal.PrivateKey.deserialize(Buffer.from(keys.signedPreKey.privateKey));
    const { id, signature } = keys.signedPreKey;
    this.signedPreKeys.records.set(
      id,
      Signal.SignedPreKeyRecord.new(id, Date.now(), spk.getPublicKey(), spk, Buffer.from(signature)),
    );
  }

  async hasSession(peer: string): Promise<boolean> {
    return (await this.sessions.getSession(address(peer)))?.hasCurrentState() ?? false;
  }

  async knownIdentity(peer: string): Promise<Uint8Array | null> {
    const k = await this.identities.getIdentity(address(peer));
    return k ? new Uint8Array(k.getPublicKeyBytes()) : null;
  }

  async processBundle(b: KeyBundle): Promise<void> {
    await Signal.processPreKeyBundle(classicBundle(b), address(b.jid), this.sessions, this.identities);
  }

  encrypt(peer: string, plaintext: Uint8Array): ReturnType<SignalStack['encrypt']> {
    return encryptClassic(plaintext, address(peer), this.sessions, this.identities, {
      libsignalVersion: this.options.libsignalVersion(),
    });
  }

  async decrypt(peer: string, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<Uint8Array> {
    const bytes = Buffer.from(ciphertext);
    try {
      const plaintext =
        type === 'pkmsg'
          ? await Signal.signalDecryptPreKey(
              Signal.PreKeySignalMessage.deserialize(bytes),
              address(peer),
              this.sessions,
              this.identities,
              this.preKeys,
              this.signedPreKeys,
              this.kyber,
            )
          : await Signal.signalDecrypt(
              Signal.SignalMessage.deserialize(bytes),
              address(peer),
              this.sessions,
              this.identities,
            );
      return new Uint8Array(plaintext);
    } catch (e) {
      if (isDuplicate(e, Signal.ErrorCode.DuplicatedMessage)) throw new DuplicateMessage((e as Error).message);
      throw e;
    }
  }

  async snapshot(peer: string): Promise<Uint8Array | null> {
    const r = await this.sessions.getSession(address(peer));
    return r ? new Uint8Array(r.serialize()) : null;
  }

  async restore(peer: string, record: Uint8Array): Promise<void> {
    await this.sessions.saveSession(address(peer), Signal.SessionRecord.deserialize(Buffer.from(record)));
  }

  removeSession(peer: string): void {
    this.sessions.removeSession(address(peer));
  }

  async savePreKey(id: number, privateKey: Uint8Array): Promise<void> {
    const k = Signal.PrivateKey.deserialize(Buffer.from(privateKey));
    await this.preKeys.savePreKey(id, Signal.PreKeyRecord.new(id, k.getPublicKey(), k));
  }
}
