/**
 * In-memory libsignal stores for the `pq` session mode (libsignal 0.103: PQXDH and the triple
 * ratchet, message version 4). The same policies as the classic stores (signal-store.ts), on the
 * newer library's classes; trust stays the caller's policy.
 */
import * as SignalPq from '@signalapp/libsignal-client';
import { equalBytes } from './bytes.js';
import { DEVICE_ID, DJB_KEY_TYPE } from './constants.js';
import { IdentityBook } from './identity-book.js';
import type { KeyBundle } from './stanzas.js';

export { SignalPq };

const addressKey = (a: SignalPq.ProtocolAddress): string => `${a.name()}.${a.deviceId()}`;

/** libsignal wants the type-prefixed 33-byte form of the wire's raw 32-byte keys. */
export const pqDjbKey = (raw: Uint8Array): SignalPq.PublicKey =>
  SignalPq.PublicKey.deserialize(Uint8Array.from([DJB_KEY_TYPE, ...raw]));

/** A peer's address: its jid, on its one device. jids are not ServiceIds, so no address binding applies. */
export const pqAddress = (jid: string): SignalPq.ProtocolAddress => SignalPq.ProtocolAddress.new(jid, DEVICE_ID);

/** A bundle from the wire as libsignal 0.103 takes it: PQXDH, so the Kyber prekey is required. */
export function pqBundle(b: KeyBundle): SignalPq.PreKeyBundle {
  if (!b.kyberPreKey) throw new Error(`the bundle of ${b.jid} has no Kyber prekey: no pq session possible`);
  const pre = b.oneTimePreKey;
  return SignalPq.PreKeyBundle.new(
    b.registrationId,
    DEVICE_ID,
    pre?.id ?? null,
    pre ? pqDjbKey(pre.publicKey) : null,
    b.signedPreKey.id,
    pqDjbKey(b.signedPreKey.publicKey),
    Uint8Array.from(b.signedPreKey.signature),
    pqDjbKey(b.identityKey),
    b.kyberPreKey.id,
    SignalPq.KEMPublicKey.deserialize(Uint8Array.from(b.kyberPreKey.publicKey)),
    Uint8Array.from(b.kyberPreKey.signature),
  );
}

export class PqIdentityStore extends SignalPq.IdentityKeyStore {
  constructor(
    private readonly pair: SignalPq.IdentityKeyPair,
    private readonly registrationId: number,
    /** Called when a known address presents a different key; returns whether to trust it. */
    private readonly onIdentityChange: (address: string) => boolean = () => false,
    /** Shared with the user's other stores, when it has some. */
    private readonly known = new IdentityBook(),
  ) {
    super();
  }
  override async getIdentityKey(): Promise<SignalPq.PrivateKey> {
    return this.pair.privateKey;
  }
  override async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  override async saveIdentity(a: SignalPq.ProtocolAddress, k: SignalPq.PublicKey): Promise<SignalPq.IdentityChange> {
    const old = this.known.get(addressKey(a));
    this.known.set(addressKey(a), k.serialize());
    return old && !equalBytes(old, k.serialize())
      ? SignalPq.IdentityChange.ReplacedExisting
      : SignalPq.IdentityChange.NewOrUnchanged;
  }
  override async isTrustedIdentity(a: SignalPq.ProtocolAddress, k: SignalPq.PublicKey): Promise<boolean> {
    const old = this.known.get(addressKey(a));
    if (!old || equalBytes(old, k.serialize())) return true;
    return this.onIdentityChange(a.name());
  }
  override async getIdentity(a: SignalPq.ProtocolAddress): Promise<SignalPq.PublicKey | null> {
    const k = this.known.get(addressKey(a));
    return k ? SignalPq.PublicKey.deserialize(Uint8Array.from(k)) : null;
  }
}

export class PqSessionStore extends SignalPq.SessionStore {
  private readonly sessions = new Map<string, Uint8Array<ArrayBuffer>>();
  override async saveSession(a: SignalPq.ProtocolAddress, r: SignalPq.SessionRecord): Promise<void> {
    this.sessions.set(addressKey(a), r.serialize());
  }
  override async getSession(a: SignalPq.ProtocolAddress): Promise<SignalPq.SessionRecord | null> {
    const b = this.sessions.get(addressKey(a));
    return b ? SignalPq.SessionRecord.deserialize(b) : null;
  }
  removeSession(a: SignalPq.ProtocolAddress): void {
    this.sessions.delete(addressKey(a));
  }
  override async getExistingSessions(as: SignalPq.ProtocolAddress[]): Promise<SignalPq.SessionRecord[]> {
    const found = await Promise.all(as.map((a) => this.getSession(a)));
    return found.filter((r): r is SignalPq.SessionRecord => r !== null);
  }
}

export class PqPreKeyStore extends SignalPq.PreKeyStore {
  readonly records = new Map<number, SignalPq.PreKeyRecord>();
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
  override async savePreKey(id: number, r: SignalPq.PreKeyRecord): Promise<void> {
    this.records.set(id, r);
  }
  override async getPreKey(id: number): Promise<SignalPq.PreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no prekey ${id}`);
    if (this.deleteOnLoad) this.records.delete(id);
    return r;
  }
  override async removePreKey(id: number): Promise<void> {
    if (this.deleteOnUse) this.records.delete(id);
  }
}

export class PqSignedPreKeyStore extends SignalPq.SignedPreKeyStore {
  readonly records = new Map<number, SignalPq.SignedPreKeyRecord>();
  override async saveSignedPreKey(id: number, r: SignalPq.SignedPreKeyRecord): Promise<void> {
    this.records.set(id, r);
  }
  override async getSignedPreKey(id: number): Promise<SignalPq.SignedPreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no signed prekey ${id}`);
    return r;
  }
}

/**
 * Last-resort Kyber prekeys are used by many sessions, so libsignal leaves replay protection to
 * the store: a (Kyber prekey, signed prekey, base key) triple seen before is refused
 * (research: a replayed first message is otherwise accepted again once the session is gone).
 */
export class PqKyberPreKeyStore extends SignalPq.KyberPreKeyStore {
  readonly records = new Map<number, SignalPq.KyberPreKeyRecord>();
  private readonly used = new Set<string>();
  /** When false, a replayed triple is accepted: the `accept-kyber-replay` fault. */
  constructor(private readonly refuseReplay = true) {
    super();
  }
  override async saveKyberPreKey(id: number, r: SignalPq.KyberPreKeyRecord): Promise<void> {
    this.records.set(id, r);
  }
  override async getKyberPreKey(id: number): Promise<SignalPq.KyberPreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no kyber prekey ${id}`);
    return r;
  }
  override async markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: SignalPq.PublicKey): Promise<void> {
    const triple = `${id}/${signedPreKeyId}/${Buffer.from(baseKey.serialize()).toString('hex')}`;
    if (this.used.has(triple) && this.refuseReplay)
      throw new Error(`kyber prekey ${id} already used with this base key: a replay`);
    this.used.add(triple);
  }
}
