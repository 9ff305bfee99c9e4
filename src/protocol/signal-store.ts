/**
 * In-memory libsignal stores for the classic session mode (libsignal 0.72.1: X3DH, message
 * version 3). Trust is the caller's policy: `onIdentityChange` decides and is told.
 */
import * as Signal from 'libsignal-classic';
import { equalBytes } from './bytes.js';
import { DEVICE_ID, DJB_KEY_TYPE } from './constants.js';
import { IdentityBook } from './identity-book.js';
import type { KeyBundle } from './stanzas.js';

export { Signal };

const addressKey = (a: Signal.ProtocolAddress): string => `${a.name()}.${a.deviceId()}`;

/** libsignal wants the type-prefixed 33-byte form of the wire's raw 32-byte keys. */
export const djbKey = (raw: Uint8Array): Signal.PublicKey =>
  Signal.PublicKey.deserialize(Buffer.concat([Buffer.of(DJB_KEY_TYPE), raw]));

/** A peer's address: its jid, on its one device. */
export const signalAddress = (jid: string): Signal.ProtocolAddress => Signal.ProtocolAddress.new(jid, DEVICE_ID);

/** A bundle from the wire (KEYS-FETCH) as libsignal 0.72.1 takes it: X3DH, no Kyber prekey. */
export function classicBundle(b: KeyBundle): Signal.PreKeyBundle {
  const pre = b.oneTimePreKey;
  return Signal.PreKeyBundle.new(
    b.registrationId,
    DEVICE_ID,
    pre?.id ?? null,
    pre ? djbKey(pre.publicKey) : null,
    b.signedPreKey.id,
    djbKey(b.signedPreKey.publicKey),
    Buffer.from(b.signedPreKey.signature),
    djbKey(b.identityKey),
  );
}

export class MemoryIdentityStore extends Signal.IdentityKeyStore {
  constructor(
    private readonly pair: Signal.IdentityKeyPair,
    private readonly registrationId: number,
    /** Called when a known address presents a different key; returns whether to trust it. */
    private readonly onIdentityChange: (address: string) => boolean = () => false,
    /** Shared with the user's other stores, when it has some. */
    private readonly known = new IdentityBook(),
  ) {
    super();
  }
  override async getIdentityKey(): Promise<Signal.PrivateKey> {
    return this.pair.privateKey;
  }
  override async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  override async saveIdentity(a: Signal.ProtocolAddress, k: Signal.PublicKey): Promise<Signal.IdentityChange> {
    const old = this.known.get(addressKey(a));
    this.known.set(addressKey(a), k.serialize());
    return old && !equalBytes(old, k.serialize())
      ? Signal.IdentityChange.ReplacedExisting
      : Signal.IdentityChange.NewOrUnchanged;
  }
  override async isTrustedIdentity(a: Signal.ProtocolAddress, k: Signal.PublicKey): Promise<boolean> {
    const old = this.known.get(addressKey(a));
    if (!old || equalBytes(old, k.serialize())) return true;
    return this.onIdentityChange(a.name());
  }
  override async getIdentity(a: Signal.ProtocolAddress): Promise<Signal.PublicKey | null> {
    const k = this.known.get(addressKey(a));
    return k ? Signal.PublicKey.deserialize(Buffer.from(k)) : null;
  }
}

export class MemorySessionStore extends Signal.SessionStore {
  private readonly sessions = new Map<string, Buffer>();
  override async saveSession(a: Signal.ProtocolAddress, r: Signal.SessionRecord): Promise<void> {
    this.sessions.set(addressKey(a), r.serialize());
  }
  override async getSession(a: Signal.ProtocolAddress): Promise<Signal.SessionRecord | null> {
    const b = this.sessions.get(addressKey(a));
    return b ? Signal.SessionRecord.deserialize(b) : null;
  }
  removeSession(a: Signal.ProtocolAddress): void {
    this.sessions.delete(addressKey(a));
  }
  override async getExistingSessions(as: Signal.ProtocolAddress[]): Promise<Signal.SessionRecord[]> {
    const found = await Promise.all(as.map((a) => this.getSession(a)));
    return found.filter((r): r is Signal.SessionRecord => r !== null);
  }
}

export class MemoryPreKeyStore extends Signal.PreKeyStore {
  readonly records = new Map<number, Signal.PreKeyRecord>();
  /**
   * deleteOnUse false: a used one-time prekey stays available (the `reuse-one-time-prekey` fault);
   * deleteOnLoad true: a prekey goes when a message names it, decrypted or not (`spend-prekey-on-load`).
   */
  constructor(
    private readonly deleteOnUse = true,
    private readonly deleteOnLoad = false,
  ) {
    super();
  }
  override async savePreKey(id: number, r: Signal.PreKeyRecord): Promise<void> {
    this.records.set(id, r);
  }
  override async getPreKey(id: number): Promise<Signal.PreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no prekey ${id}`);
    if (this.deleteOnLoad) this.records.delete(id);
    return r;
  }
  override async removePreKey(id: number): Promise<void> {
    if (this.deleteOnUse) this.records.delete(id);
  }
}

export class MemorySignedPreKeyStore extends Signal.SignedPreKeyStore {
  readonly records = new Map<number, Signal.SignedPreKeyRecord>();
  override async saveSignedPreKey(id: number, r: Signal.SignedPreKeyRecord): Promise<void> {
    this.records.set(id, r);
  }
  override async getSignedPreKey(id: number): Promise<Signal.SignedPreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no signed prekey ${id}`);
    return r;
  }
}

/** Classic sessions carry no Kyber prekeys; a lookup means the peer sent a PQ message. */
export class NoKyberPreKeyStore extends Signal.KyberPreKeyStore {
  override async saveKyberPreKey(): Promise<void> {
    throw new Error('classic mode stores no Kyber prekeys');
  }
  override async getKyberPreKey(id: number): Promise<Signal.KyberPreKeyRecord> {
    throw new Error(`no kyber prekey ${id} in classic mode`);
  }
  override async markKyberPreKeyUsed(): Promise<void> {}
}
