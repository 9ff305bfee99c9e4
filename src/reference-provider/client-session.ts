/**
 * One provider user's Signal state: its identity, its prekeys, and its sessions with peers, in
 * the profile's `classic` mode (libsignal 0.72.1) and, when the provider speaks it, the `pq` mode
 * (libsignal 0.103). Both stacks share the user's keys; a session lives in the stack its peer's
 * bundle or first message chose (a Kyber prekey in the bundle, message version 4).
 */
import { randomInt } from 'node:crypto';
import { MAX_REGISTRATION_ID } from '../protocol/constants.js';
import { IdentityBook } from '../protocol/identity-book.js';
import { djbKey, Signal } from '../protocol/signal-store.js';
import { messageKeysAt, openBody, sessionChains } from '../protocol/signal-chain.js';
import { readPreKeySignalMessage, readSignalMessage } from '../protocol/signal-wire.js';
import type { EncType, KeyBundle, KyberPreKey, OneTimePreKey, SignedPreKey } from '../protocol/stanzas.js';
import { ClassicStack } from './client-stack-classic.js';
import { PqStack } from './client-stack-pq.js';
import type { SignalStack } from './client-stack.js';
import type { FaultSet } from './faults.js';
import type { SessionMode } from '../protocol/driver-api.js';

/** Prekey ids travel as 3 bytes (KEYS-UPLOAD); 0 is avoided as some stores treat it as "none". */
const MAX_PREKEY_ID = 0xffffff;
/** SAFETY-NUMBER: the parameters both sides use, so that both compute the same 60 digits. */
const FINGERPRINT_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 1;
/** A database read's latency, in the `no-send-lock` fault. */
const UNLOCKED_READ_MS = 20;
/** libsignal's MAX_FORWARD_JUMPS: only the `unbounded-skip` fault goes past it. */
const FORWARD_JUMPS = 25_000;

export interface SessionOptions {
  /** Whether the user speaks the `pq` mode too (the provider's discovery document says so). */
  readonly pq?: boolean;
}

export class SignalSession {
  readonly registrationId = randomInt(0, MAX_REGISTRATION_ID + 1);
  private readonly identity = Signal.IdentityKeyPair.generate();
  private readonly classic: ClassicStack;
  private readonly pq: PqStack | undefined;
  /** The stack each peer's session lives in. */
  private readonly stackOf = new Map<string, SignalStack>();
  private nextPreKeyId = randomInt(1, MAX_PREKEY_ID);
  /** The tail of each peer's queue of libsignal operations. */
  private readonly queues = new Map<string, Promise<unknown>>();
  readonly signedPreKey: SignedPreKey;
  /** What KEYS-UPLOAD publishes; the same as the enlisted key, but for a fault. */
  readonly uploadedSignedPreKey: SignedPreKey;
  /** The highest counter received per peer and ratchet key: only the `drop-out-of-order` fault reads it. */
  private readonly highestCounter = new Map<string, number>();
  /** Peer and base key of each prekey message read (the `rebuild-session-on-replay` fault). */
  private readonly baseKeysRead = new Set<string>();
  /** The safety number last shown for each peer: only the `stale-safety-number` fault reads it. */
  private readonly safetyNumbers = new Map<string, string>();
  /** The peers whose session this user opened from their bundle (the `own-sessions-only` fault). */
  private readonly opened = new Set<string>();

  /** `onIdentityChange` hears of a peer whose identity key changed; the new key is trusted. */
  constructor(
    onIdentityChange: (peer: string) => void,
    private readonly faults: FaultSet = new Set(),
    options: SessionOptions = {},
  ) {
    // Any id would do, but one whose 3 bytes read the same both ways would hide a byte-order fault
    // (enlist-skey-id-little-endian) one run in 256.
    let spkId = randomInt(1, MAX_PREKEY_ID + 1);
    while (spkId >> 16 === (spkId & 0xff)) spkId = randomInt(1, MAX_PREKEY_ID + 1);
    const spk = Signal.PrivateKey.generate();
    // XEdDSA over 0x05 ‖ key: the serialized public key is exactly that.
    const signature = this.identity.privateKey.sign(spk.getPublicKey().serialize());
    this.signedPreKey = {
      id: spkId,
      publicKey: new Uint8Array(spk.getPublicKey().getPublicKeyBytes()),
      signature: new Uint8Array(signature),
    };
    this.uploadedSignedPreKey = faults.has('bad-signed-prekey-signature')
      ? {
          ...this.signedPreKey,
          signature: new Uint8Array(this.identity.privateKey.sign(Buffer.from(this.signedPreKey.publicKey))),
        }
      : this.signedPreKey;
    const shared = {
      identityPair: new Uint8Array(this.identity.serialize()),
      registrationId: this.registrationId,
      signedPreKey: { id: spkId, privateKey: new Uint8Array(spk.serialize()), signature: new Uint8Array(signature) },
      identities: new IdentityBook(),
    };
    // Trust on first use; a changed key is accepted but raised to the user (an event in the driver).
    // The fault refuses it after telling the user, so the message under it gets a retry receipt.
    const trust = (peer: string): boolean => {
      onIdentityChange(peer);
      return !faults.has('identity-change-retry');
    };
    const deletePreKeysOnUse = !faults.has('reuse-one-time-prekey') && !faults.has('rebuild-session-on-replay');
    const spendPreKeysOnLoad = faults.has('spend-prekey-on-load');
    this.classic = new ClassicStack(shared, trust, {
      deletePreKeysOnUse,
      spendPreKeysOnLoad,
      libsignalVersion: () => faults.has('libsignal-version-byte'),
    });
    this.pq = options.pq
      ? new PqStack(shared, trust, randomInt(1, MAX_PREKEY_ID + 1), {
          deletePreKeysOnUse,
          spendPreKeysOnLoad,
          refuseKyberReplay: !faults.has('accept-kyber-replay') && !faults.has('rebuild-session-on-replay'),
        })
      : undefined;
  }

  /** The raw 32-byte identity key. */
  get identityKey(): Uint8Array {
    return new Uint8Array(this.identity.publicKey.getPublicKeyBytes());
  }

  /** The last-resort Kyber prekey KEYS-UPLOAD publishes in the `pq` mode (KEYS-KYBER). */
  get kyberPreKey(): KyberPreKey | undefined {
    const k = this.pq?.kyberPreKey;
    if (!k || !this.faults.has('bad-kyber-prekey-signature')) return k;
    return { ...k, signature: new Uint8Array(this.identity.privateKey.sign(Buffer.from(k.publicKey.subarray(1)))) };
  }

  /** Fresh one-time prekeys, stored in every stack for the prekey messages that will use them. */
  async newOneTimePreKeys(count: number): Promise<OneTimePreKey[]> {
    const out: OneTimePreKey[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.nextPreKeyId;
      this.nextPreKeyId = (id % MAX_PREKEY_ID) + 1;
      const key = Signal.PrivateKey.generate();
      if (!this.faults.has('forget-one-time-prekeys')) {
        for (const stack of this.stacks()) await stack.savePreKey(id, new Uint8Array(key.serialize()));
      }
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
    // The fault sends only on sessions it opened, so a peer that wrote first gets a second one.
    if (this.faults.has('own-sessions-only') && !this.opened.has(peer)) return false;
    return (await this.sessionStack(peer)) !== undefined;
  }

  /** A bundle with a Kyber prekey opens a `pq` session when the user speaks it; any other, a classic one. */
  async processBundle(bundle: KeyBundle): Promise<void> {
    const pq = bundle.kyberPreKey && !this.faults.has('classic-to-pq-peers') ? this.pq : undefined;
    const stack = pq ?? this.classic;
    await stack.processBundle(bundle);
    this.stackOf.set(bundle.jid, stack);
    this.opened.add(bundle.jid);
  }

  async encrypt(peer: string, plaintext: Uint8Array): Promise<{ type: EncType; ciphertext: Uint8Array }> {
    // The stack that opened or last used the session; the client has just made sure there is one.
    const stack = this.stackOf.get(peer) ?? (await this.sessionStack(peer)) ?? this.classic;
    if (this.faults.has('no-send-lock')) await this.unlockedRead(stack, peer);
    return stack.encrypt(peer, plaintext);
  }

  /**
   * The `no-send-lock` fault as a client that keeps sessions in a database does it: it reads the
   * session, waits on the read, and encrypts from what it read, with nothing stopping another send
   * from reading the same state meanwhile.
   */
  private async unlockedRead(stack: SignalStack, peer: string): Promise<void> {
    const read = await stack.snapshot(peer);
    await new Promise((resolve) => setTimeout(resolve, UNLOCKED_READ_MS));
    if (read) await stack.restore(peer, read);
  }

  async decrypt(peer: string, type: EncType, ciphertext: Uint8Array): Promise<Uint8Array> {
    // The high nibble of byte 0 is the message version: 4 is PQXDH, 3 is X3DH.
    const stack = (ciphertext[0] ?? 0) >> 4 === 4 && this.pq ? this.pq : this.classic;
    const before = this.faults.has('forget-ratchet-state') ? await stack.snapshot(peer) : null;
    const replayed =
      this.faults.has('rebuild-session-on-replay') && type === 'pkmsg' ? this.readBefore(peer, ciphertext) : undefined;
    if (replayed?.before) stack.removeSession(peer);
    // The fault holds peers to libsignal's 14-bit range, which WhatsApp's clients do not keep.
    if (this.faults.has('refuse-wide-registration-id') && type === 'pkmsg') {
      const id = readPreKeySignalMessage(ciphertext)?.registrationId ?? 0;
      if (id < 1 || id > MAX_REGISTRATION_ID)
        throw new Error(`registration id ${id} outside 1..${MAX_REGISTRATION_ID}`);
    }
    if (this.faults.has('drop-out-of-order')) this.dropOutOfOrder(peer, type, ciphertext);
    try {
      const plaintext = await stack.decrypt(peer, type, ciphertext);
      if (replayed) this.baseKeysRead.add(replayed.key);
      this.stackOf.set(peer, stack);
      if (before) await stack.restore(peer, before);
      return plaintext;
    } catch (e) {
      const skipped =
        this.faults.has('unbounded-skip') && type === 'msg' ? await this.openFarAhead(stack, peer, ciphertext) : null;
      if (skipped) return skipped;
      if (this.faults.has('reset-session-on-error')) stack.removeSession(peer);
      throw e;
    }
  }

  /** The `rebuild-session-on-replay` fault: whether it has read a prekey message on this base key from `peer` before. */
  private readBefore(peer: string, ciphertext: Uint8Array): { key: string; before: boolean } | undefined {
    const baseKey = readPreKeySignalMessage(ciphertext)?.baseKey;
    if (!baseKey) return undefined;
    const key = `${peer} ${Buffer.from(baseKey).toString('hex')}`;
    return { key, before: this.baseKeysRead.has(key) };
  }

  /**
   * The `unbounded-skip` fault: what a hand-rolled ratchet without libsignal's bound does with a
   * message past the window: it walks the chain there and opens it (and checks no MAC either).
   */
  private async openFarAhead(stack: SignalStack, peer: string, ciphertext: Uint8Array): Promise<Uint8Array | null> {
    const m = readSignalMessage(ciphertext);
    const record = await stack.snapshot(peer);
    const chain =
      m &&
      record &&
      sessionChains(record)?.receivers.find((c) => Buffer.from(c.ratchetKey).equals(Buffer.from(m.ratchetKey)));
    if (!m || !chain || m.counter <= chain.index + FORWARD_JUMPS) return null;
    try {
      return new Uint8Array(openBody(messageKeysAt(chain, m.counter), m.ciphertext));
    } catch {
      return null;
    }
  }

  /** E2E-FORWARD-SECRECY (test deployments only): the serialized session with `peer` and its mode, as it is now. */
  async exportSession(peer: string): Promise<{ mode: SessionMode; record: Uint8Array } | null> {
    const stack = await this.sessionStack(peer);
    const record = stack && (await stack.snapshot(peer));
    return stack && record ? { mode: stack === this.pq ? 'pq' : 'classic', record } : null;
  }

  /** SAFETY-NUMBER: the 60 digits for this user (`login`) and `peer`, from the identity key last seen for it. */
  async safetyNumber(login: string, peer: string): Promise<string | null> {
    // Both stacks keep identities in the one book (SharedKeys.identities): either can answer.
    const remote = await this.classic.knownIdentity(peer);
    if (!remote) return null;
    // The fault keeps a number by peer, not by key: a reinstalled peer's new key never shows.
    const shown = this.faults.has('stale-safety-number') ? this.safetyNumbers.get(peer) : undefined;
    if (shown !== undefined) return shown;
    const iterations = this.faults.has('wrong-safety-number') ? 1024 : FINGERPRINT_ITERATIONS;
    const fingerprint = Signal.Fingerprint.new(
      iterations,
      FINGERPRINT_VERSION,
      Buffer.from(login, 'utf8'),
      this.identity.publicKey,
      Buffer.from(peer, 'utf8'),
      djbKey(remote),
    );
    const digits = fingerprint.displayableFingerprint().toString();
    this.safetyNumbers.set(peer, digits);
    return digits;
  }

  /** The `sessions-dropped-on-reconnect` fault: every session with a peer it knows is forgotten. */
  dropSessions(): void {
    for (const stack of this.stacks()) for (const peer of this.stackOf.keys()) stack.removeSession(peer);
  }

  private stacks(): SignalStack[] {
    return this.pq ? [this.classic, this.pq] : [this.classic];
  }

  /** The stack holding a usable session with `peer`: the one it last used, else any. */
  private async sessionStack(peer: string): Promise<SignalStack | undefined> {
    const known = this.stackOf.get(peer);
    if (known && (await known.hasSession(peer))) return known;
    for (const stack of this.stacks()) if (await stack.hasSession(peer)) return stack;
    return undefined;
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
