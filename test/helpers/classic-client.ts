/**
 * The provider's side of a classic (X3DH) session for gatekeeper tests: a libsignal 0.72.1 party
 * with its keys in the profile's shapes (raw 32-byte keys, enlistment form, prekey upload).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { fromBase64, toBase64Url } from '../../src/protocol/base64.js';
import { DJB_KEY_TYPE } from '../../src/protocol/constants.js';
import type { StanzaNode } from '../../src/protocol/node.js';
import {
  classicBundle,
  MemoryIdentityStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
  NoKyberPreKeyStore,
  Signal,
  signalAddress,
} from '../../src/protocol/signal-store.js';
import { encElement, uintBytes, type KeyBundle, type PreKeyUpload } from '../../src/protocol/stanzas.js';

const raw = (k: Signal.PublicKey): Uint8Array => new Uint8Array(k.getPublicKeyBytes());

export class ClassicParty {
  readonly identity = Signal.IdentityKeyPair.generate();
  readonly registrationId = randomInt(1, 16381);
  readonly sessions = new MemorySessionStore();
  readonly identities = new MemoryIdentityStore(this.identity, this.registrationId, () => true);
  readonly preKeys = new MemoryPreKeyStore();
  readonly signedPreKeys = new MemorySignedPreKeyStore();
  readonly kyber = new NoKyberPreKeyStore();
  readonly authKey = new Uint8Array(randomBytes(32));
  private readonly spk = Signal.PrivateKey.generate();
  private readonly spkSig = this.identity.privateKey.sign(this.spk.getPublicKey().serialize());
  private readonly opks = [11, 12, 13].map((id) => ({ id, key: Signal.PrivateKey.generate() }));

  static async create(): Promise<ClassicParty> {
    const p = new ClassicParty();
    await p.signedPreKeys.saveSignedPreKey(
      7,
      Signal.SignedPreKeyRecord.new(7, Date.now(), p.spk.getPublicKey(), p.spk, p.spkSig),
    );
    for (const { id, key } of p.opks)
      await p.preKeys.savePreKey(id, Signal.PreKeyRecord.new(id, key.getPublicKey(), key));
    return p;
  }

  upload(): PreKeyUpload {
    return {
      registrationId: this.registrationId,
      identityKey: raw(this.identity.publicKey),
      signedPreKey: { id: 7, publicKey: raw(this.spk.getPublicKey()), signature: new Uint8Array(this.spkSig) },
      oneTimePreKeys: this.opks.map(({ id, key }) => ({ id, publicKey: raw(key.getPublicKey()) })),
    };
  }

  /** The enlistment form's fields, all unpadded base64url; `override` replaces any of them. */
  enlistForm(token: string, override: Record<string, string> = {}): Record<string, string> {
    const u = this.upload();
    return {
      authkey: toBase64Url(this.authKey),
      e_keytype: toBase64Url(Uint8Array.of(DJB_KEY_TYPE)),
      e_regid: toBase64Url(uintBytes(u.registrationId, 4)),
      e_ident: toBase64Url(u.identityKey),
      e_skey_id: toBase64Url(uintBytes(u.signedPreKey.id, 3)),
      e_skey_val: toBase64Url(u.signedPreKey.publicKey),
      e_skey_sig: toBase64Url(u.signedPreKey.signature),
      token,
      ...override,
    };
  }

  async decrypt(from: string, enc: StanzaNode): Promise<Uint8Array> {
    const bytes = fromBase64(enc.text ?? '');
    if (!bytes) throw new Error('enc is not canonical base64');
    const address = Signal.ProtocolAddress.new(from, 1);
    const out =
      enc.attrs['type'] === 'pkmsg'
        ? await Signal.signalDecryptPreKey(
            Signal.PreKeySignalMessage.deserialize(Buffer.from(bytes)),
            address,
            this.sessions,
            this.identities,
            this.preKeys,
            this.signedPreKeys,
            this.kyber,
          )
        : await Signal.signalDecrypt(
            Signal.SignalMessage.deserialize(Buffer.from(bytes)),
            address,
            this.sessions,
            this.identities,
          );
    return new Uint8Array(out);
  }

  async processBundle(b: KeyBundle): Promise<void> {
    await Signal.processPreKeyBundle(classicBundle(b), signalAddress(b.jid), this.sessions, this.identities);
  }

  /** Encrypts to `to` over the existing session; returns the `<enc>` element. */
  async encrypt(to: string, plaintext: Uint8Array): Promise<StanzaNode> {
    const ct = await Signal.signalEncrypt(
      Buffer.from(plaintext),
      Signal.ProtocolAddress.new(to, 1),
      this.sessions,
      this.identities,
    );
    return encElement(ct.type() === Signal.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg', ct.serialize());
  }
}
