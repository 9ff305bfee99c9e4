/**
 * A user of the gatekeeper's own messenger, on the reference libsignal in the classic mode (X3DH,
 * message version 3: libsignal 0.72.1). It publishes its keys in the directory, sends through the
 * chat server's routing like any user, and keeps every layer of what it receives for the checks.
 * Its libsignal operations are serialized per peer: libsignal does no locking of its own.
 */
import { randomInt } from 'node:crypto';
import { HarnessError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { fromBase64 } from '../protocol/base64.js';
import { DJB_KEY_TYPE } from '../protocol/constants.js';
import { child, type StanzaNode } from '../protocol/node.js';
import { encodeMessage, pad } from '../protocol/payload.js';
import {
  MemoryIdentityStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
  NoKyberPreKeyStore,
  Signal,
} from '../protocol/signal-store.js';
import { deliveredMessage, encElement, outgoingEnc, receipt, type EncType, type KeyBundle, type OneTimePreKey } from '../protocol/stanzas.js';
import type { Directory, PublishedKeys } from './directory.js';
import { equalBytes } from './directory.js';
import { KeyedQueue, Listeners, waitFor } from './events.js';
import type { RouteResult } from './stanza-handler.js';
import type { EncryptedMessage, ReferenceDelivery, ReferenceUser, WaitOptions } from './types.js';

/** One device per user (ONE-DEVICE), so every address is device 1. */
const DEVICE_ID = 1;
const ONE_TIME_PREKEYS = 5;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface ReferenceUserDeps {
  readonly directory: Directory;
  /** Routes a stanza in its delivered form (the chat server's deliver). */
  readonly deliver: (to: string, stanza: StanzaNode) => RouteResult;
  readonly rng: Rng;
}

export interface ReferenceUserOptions {
  /** Publish a signed prekey whose signature does not verify (a bundle a provider must refuse). */
  readonly badSignedPreKeySignature?: boolean;
}

/** libsignal wants the type-prefixed 33-byte form of the directory's raw 32-byte keys. */
const djb = (raw: Uint8Array): Signal.PublicKey => Signal.PublicKey.deserialize(Buffer.concat([Buffer.of(DJB_KEY_TYPE), raw]));

/** One identity and everything that hangs off it: a reinstall replaces all of it at once. */
interface Device {
  readonly identity: Signal.IdentityKeyPair;
  readonly sessions: MemorySessionStore;
  readonly identities: MemoryIdentityStore;
  readonly preKeys: MemoryPreKeyStore;
  readonly signedPreKeys: MemorySignedPreKeyStore;
  readonly published: PublishedKeys;
}

export class LocalReferenceUser implements ReferenceUser {
  readonly deliveries: ReferenceDelivery[] = [];
  /** Receipts routed to this user, as delivered. */
  readonly receipts: StanzaNode[] = [];
  /** Peers whose identity key changed while a session existed (accepted, like the messenger does). */
  readonly identityChanges: string[] = [];

  private readonly kyber = new NoKyberPreKeyStore();
  private readonly queue = new KeyedQueue();
  private readonly delivered = new Listeners<ReferenceDelivery>();
  private jidValue = '';

  private constructor(
    private device: Device,
    private readonly deps: ReferenceUserDeps,
  ) {}

  get jid(): string {
    return this.jidValue;
  }

  get identityKey(): Uint8Array {
    return new Uint8Array(this.device.identity.publicKey.getPublicKeyBytes());
  }

  /** Generates the keys (identity, signed prekey, five one-time prekeys) and publishes them. */
  static async create(deps: ReferenceUserDeps, options: ReferenceUserOptions = {}): Promise<LocalReferenceUser> {
    const identityChanges: string[] = [];
    const user = new LocalReferenceUser(await newDevice(options, identityChanges), deps);
    user.identityChanges.push(...identityChanges);
    const entry = deps.directory.addReference(user.device.published, (stanza) => user.receive(stanza));
    user.jidValue = entry.jid;
    return user;
  }

  /**
   * A reinstall: a new identity key, new prekeys and no sessions, published under the same jid.
   * Peers see an identity change on the next message.
   */
  async replaceIdentity(): Promise<void> {
    await this.queue.all(async () => {
      this.device = await newDevice({}, this.identityChanges);
      this.deps.directory.republishReference(this.jid, this.device.published);
    });
  }

  sendText(to: string, text: string): Promise<string> {
    return this.sendPayload(to, pad(encodeMessage({ conversation: text })));
  }

  sendPayload(to: string, plaintext: Uint8Array): Promise<string> {
    return this.queue.run(to, async () => {
      const { type, ciphertext } = await this.encryptNow(to, plaintext);
      return this.deliverNow(to, type, ciphertext);
    });
  }

  encrypt(to: string, plaintext: Uint8Array): Promise<EncryptedMessage> {
    return this.queue.run(to, () => this.encryptNow(to, plaintext));
  }

  deliverCiphertext(to: string, message: EncryptedMessage, id?: string): string {
    return this.deliverNow(to, message.type, message.ciphertext, id);
  }

  startSession(bundle: KeyBundle): Promise<void> {
    return this.queue.run(bundle.jid, async () => {
      const address = Signal.ProtocolAddress.new(bundle.jid, DEVICE_ID);
      await this.processBundle(bundle, address);
    });
  }

  private async encryptNow(to: string, plaintext: Uint8Array): Promise<EncryptedMessage> {
    const address = Signal.ProtocolAddress.new(to, DEVICE_ID);
    await this.ensureSession(to, address);
    const { sessions, identities } = this.device;
    const ct = await Signal.signalEncrypt(Buffer.from(plaintext), address, sessions, identities);
    return { type: ct.type() === Signal.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg', ciphertext: new Uint8Array(ct.serialize()) };
  }

  private deliverNow(to: string, type: EncType, ciphertext: Uint8Array, id = this.deps.rng.string(20, ID_ALPHABET)): string {
    const t = Math.floor(Date.now() / 1000);
    const routed = this.deps.deliver(to, deliveredMessage(id, this.jid, t, encElement(type, ciphertext)));
    if (routed === 'unknown') throw new HarnessError('E_PRECONDITION', `${to} is not a user the gatekeeper can deliver to`);
    return id;
  }

  waitForDelivery(match: (d: ReferenceDelivery) => boolean, options: WaitOptions): Promise<ReferenceDelivery | null> {
    const fits = (d: ReferenceDelivery): boolean => {
      try {
        return match(d);
      } catch {
        return false;
      }
    };
    return waitFor<ReferenceDelivery>(options, (resolve) => {
      const seen = this.deliveries.find(fits);
      if (seen) {
        resolve(seen);
        return () => {};
      }
      return this.delivered.add((d) => {
        if (fits(d)) resolve(d);
      });
    });
  }

  /** Takes a routed stanza: messages are decrypted (then receipted), receipts are recorded. */
  receive(stanza: StanzaNode): void {
    if (stanza.tag === 'receipt') {
      this.receipts.push(stanza);
      return;
    }
    if (stanza.tag !== 'message') return;
    const from = stanza.attrs['from'] ?? '';
    void this.queue.run(from, () => this.decryptAndReceipt(stanza, from)).catch(() => {});
  }

  /**
   * Builds a session from the peer's published bundle when there is none yet, or when the peer now
   * publishes another identity key (a reinstall: the messenger accepts it and notes the change).
   */
  private async ensureSession(to: string, address: Signal.ProtocolAddress): Promise<void> {
    const record = await this.device.sessions.getSession(address);
    const known = await this.device.identities.getIdentity(address);
    const published = this.deps.directory.identityOf(to);
    const identityMoved = known !== null && published !== undefined && !equalBytes(known.getPublicKeyBytes(), published);
    if (record?.hasCurrentState() && !identityMoved) return;
    const bundle = this.deps.directory.takeBundle(to);
    if (!bundle) throw new HarnessError('E_PRECONDITION', `no prekey bundle published for ${to}`);
    await this.processBundle(bundle, address);
  }

  private async processBundle(bundle: KeyBundle, address: Signal.ProtocolAddress): Promise<void> {
    try {
      await Signal.processPreKeyBundle(toLibsignal(bundle), address, this.device.sessions, this.device.identities);
    } catch (e) {
      // A bundle libsignal refuses (say, a bad signed-prekey signature) leaves nothing to send with.
      throw new HarnessError('E_PRECONDITION', `libsignal refused the bundle of ${bundle.jid}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async decryptAndReceipt(stanza: StanzaNode, from: string): Promise<void> {
    const id = stanza.attrs['id'];
    const enc = child(stanza, 'enc') ?? outgoingEnc(stanza);
    const ciphertext = enc?.text === undefined ? undefined : decodeLenient(enc.text);
    let plaintext: Uint8Array | undefined;
    let decryptError: string | undefined;
    if (!enc) decryptError = 'the message has no <enc>';
    else if (!ciphertext) decryptError = '<enc> holds no base64 ciphertext';
    else {
      try {
        plaintext = new Uint8Array(await this.decrypt(from, enc.attrs['type'], ciphertext));
      } catch (e) {
        decryptError = e instanceof Error ? e.message : String(e);
      }
    }
    const delivery: ReferenceDelivery = { stanza, from, id, enc, ciphertext, plaintext, decryptError };
    this.deliveries.push(delivery);
    this.delivered.emit(delivery);
    // RECEIPT-DELIVERY, as the messenger does it: only for a message it decrypted and can name.
    if (plaintext && id) this.deps.deliver(from, receipt({ id, from: this.jid, t: String(Math.floor(Date.now() / 1000)) }));
  }

  /** Decrypts by the declared type, or as the other type when the bytes do not parse as declared. */
  private async decrypt(from: string, type: string | undefined, bytes: Uint8Array): Promise<Buffer> {
    const address = Signal.ProtocolAddress.new(from, DEVICE_ID);
    const { sessions, identities, preKeys, signedPreKeys } = this.device;
    const m = parseCiphertext(Buffer.from(bytes), type === 'msg' ? ['msg', 'pkmsg'] : ['pkmsg', 'msg']);
    return m instanceof Signal.PreKeySignalMessage
      ? Signal.signalDecryptPreKey(m, address, sessions, identities, preKeys, signedPreKeys, this.kyber)
      : Signal.signalDecrypt(m, address, sessions, identities);
  }
}

/** A fresh identity with its signed prekey and one-time prekeys, stored and ready to publish. */
async function newDevice(options: ReferenceUserOptions, identityChanges: string[]): Promise<Device> {
  const identity = Signal.IdentityKeyPair.generate();
  const registrationId = randomInt(1, 16381);
  const identities = new MemoryIdentityStore(identity, registrationId, (address) => {
    identityChanges.push(address);
    return true;
  });
  const preKeys = new MemoryPreKeyStore();
  const signedPreKeys = new MemorySignedPreKeyStore();

  const spkId = randomInt(1, 0x1000000);
  const spk = Signal.PrivateKey.generate();
  const signature = identity.privateKey.sign(spk.getPublicKey().serialize());
  await signedPreKeys.saveSignedPreKey(spkId, Signal.SignedPreKeyRecord.new(spkId, Date.now(), spk.getPublicKey(), spk, signature));
  const published = new Uint8Array(signature);
  if (options.badSignedPreKeySignature) published[10] = (published[10] ?? 0) ^ 0x01;

  const firstId = randomInt(1, 0x1000000 - ONE_TIME_PREKEYS);
  const oneTimePreKeys: OneTimePreKey[] = [];
  for (let id = firstId; id < firstId + ONE_TIME_PREKEYS; id++) {
    const k = Signal.PrivateKey.generate();
    await preKeys.savePreKey(id, Signal.PreKeyRecord.new(id, k.getPublicKey(), k));
    oneTimePreKeys.push({ id, publicKey: new Uint8Array(k.getPublicKey().getPublicKeyBytes()) });
  }
  return {
    identity,
    sessions: new MemorySessionStore(),
    identities,
    preKeys,
    signedPreKeys,
    published: {
      registrationId,
      identityKey: new Uint8Array(identity.publicKey.getPublicKeyBytes()),
      signedPreKey: { id: spkId, publicKey: new Uint8Array(spk.getPublicKey().getPublicKeyBytes()), signature: published },
      oneTimePreKeys,
    },
  };
}

/** ENC-TYPE is a check's business: the reference user reads a mislabelled message all the same. */
function parseCiphertext(buf: Buffer, order: readonly ('pkmsg' | 'msg')[]): Signal.PreKeySignalMessage | Signal.SignalMessage {
  let firstError: unknown;
  for (const kind of order) {
    try {
      return kind === 'pkmsg' ? Signal.PreKeySignalMessage.deserialize(buf) : Signal.SignalMessage.deserialize(buf);
    } catch (e) {
      firstError ??= e;
    }
  }
  throw firstError;
}

function toLibsignal(b: KeyBundle): Signal.PreKeyBundle {
  return Signal.PreKeyBundle.new(
    b.registrationId,
    DEVICE_ID,
    b.oneTimePreKey?.id ?? null,
    b.oneTimePreKey ? djb(b.oneTimePreKey.publicKey) : null,
    b.signedPreKey.id,
    djb(b.signedPreKey.publicKey),
    Buffer.from(b.signedPreKey.signature),
    djb(b.identityKey),
  );
}

/** Canonical base64 first; else Node's forgiving decoder (base64url, missing padding). */
function decodeLenient(text: string): Uint8Array | undefined {
  const strict = fromBase64(text);
  if (strict) return strict;
  const loose = Buffer.from(text, 'base64');
  return loose.length > 0 ? new Uint8Array(loose) : undefined;
}
