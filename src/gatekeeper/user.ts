/**
 * A user of the gatekeeper's own messenger, on the reference libsignal in either session mode
 * (user-device.ts). It publishes its keys in the directory, sends through the chat server's
 * routing like any user, and keeps every layer of what it receives for the checks. Its libsignal
 * operations are serialized per peer: libsignal does no locking of its own.
 */
import { PreconditionError, ProviderViolation } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { fromBase64 } from '../protocol/base64.js';
import { child, type StanzaNode } from '../protocol/node.js';
import { ENC_MEDIATYPE, type MediaKind } from '../protocol/media/enc-mediatype.js';
import { revokeContent, SENDER_REVOKE_EDIT } from '../protocol/messaging.js';
import { encodeMessage, pad, paddingLength, textPayload } from '../protocol/payload.js';
import {
  deliveredMessage,
  encElement,
  outgoingEnc,
  receipt,
  type EncType,
  type KeyBundle,
} from '../protocol/stanzas.js';
import type { Directory } from './directory.js';
import type { GroupDirectory } from './groups.js';
import { GatekeeperGroupMember } from './user-groups.js';
import { isGroupJid } from '../protocol/groups.js';
import { equalBytes } from '../protocol/bytes.js';
import { KeyedQueue, Listeners, waitForRecorded } from './events.js';
import type { SessionMode } from '../protocol/driver-api.js';
import { newDevice, type DeviceOptions, type GatekeeperDevice } from './user-device.js';
import type { RouteResult } from './stanza-handler.js';
import type { WaitOptions } from './observation-types.js';
import type {
  EncryptedMessage,
  GatekeeperDelivery,
  GatekeeperGroupDelivery,
  GatekeeperSend,
  GatekeeperUser,
  EncryptedGroupMessage,
} from './user-types.js';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface GatekeeperUserDeps {
  readonly directory: Directory;
  readonly groups: GroupDirectory;
  /** Routes a stanza in its delivered form (the chat server's deliver). */
  readonly deliver: (to: string, stanza: StanzaNode) => RouteResult;
  readonly rng: Rng;
}

/** What a delivered stanza carries besides the ciphertext: its id (a fresh one if none), `<enc mediatype>`, `<message edit>`. */
interface DeliveryOptions {
  readonly id?: string;
  readonly mediatype?: string | undefined;
  readonly edit?: string;
}

export interface GatekeeperUserOptions extends DeviceOptions {
  readonly mode?: SessionMode;
  /** The type its delivery receipts carry: none (the default), or `inactive` (RECEIPT-DELIVERY allows both). */
  readonly receiptType?: 'inactive';
  /** `false`: no delivery receipts at all, so that its read receipt comes alone (RECEIPT-SHOWN). */
  readonly deliveryReceipts?: false;
}

export class LocalGatekeeperUser implements GatekeeperUser {
  readonly deliveries: GatekeeperDelivery[] = [];
  readonly sends: GatekeeperSend[] = [];
  /** The plaintext of each message it encrypted, until a deliver names its id (sends). */
  private readonly plaintextOf = new WeakMap<EncryptedMessage | EncryptedGroupMessage, Uint8Array>();

  private readonly queue = new KeyedQueue();
  private readonly delivered = new Listeners<GatekeeperDelivery>();
  private jidValue = '';
  private receiptType: GatekeeperUserOptions['receiptType'];
  private deliveryReceipts = true;
  private readonly member: GatekeeperGroupMember;

  private constructor(
    private device: GatekeeperDevice,
    private readonly deps: GatekeeperUserDeps,
  ) {
    this.member = new GatekeeperGroupMember(() => this.jidValue, {
      groups: deps.groups,
      deliver: deps.deliver,
      encrypt: (to, plaintext) => this.encrypt(to, plaintext),
      decrypt: async (from, type, bytes) => new Uint8Array(await this.device.decrypt(from, type, bytes)),
      newId: () => deps.rng.string(20, ID_ALPHABET),
      paddingLength: () => paddingLength(deps.rng),
    });
  }

  get groupDeliveries(): readonly GatekeeperGroupDelivery[] {
    return this.member.deliveries;
  }

  waitForGroupDelivery(
    match: (d: GatekeeperGroupDelivery) => boolean,
    options: WaitOptions,
  ): Promise<GatekeeperGroupDelivery | null> {
    return this.member.wait(match, options);
  }

  encryptGroupText(group: string, text: string): Promise<EncryptedGroupMessage> {
    return this.encryptGroupPayload(group, textPayload(text, paddingLength(this.deps.rng)));
  }

  encryptGroupPayload(group: string, plaintext: Uint8Array): Promise<EncryptedGroupMessage> {
    return this.queue.run(group, async () => this.kept(await this.member.encrypt(group, plaintext), plaintext));
  }

  renewGroupKey(group: string): Promise<void> {
    return this.queue.run(group, async () => this.member.renew(group));
  }

  resendGroupKey(group: string): Promise<void> {
    return this.queue.run(group, async () => this.member.resend(group));
  }

  deliverGroup(
    encrypted: EncryptedGroupMessage,
    options?: { readonly id?: string; readonly withDistributions?: boolean },
  ): string {
    return this.sent(encrypted.group, this.member.deliver(encrypted, options), this.plaintextOf.get(encrypted));
  }

  openGroupMessage(group: string, sender: string, skmsg: Uint8Array): Promise<Uint8Array> {
    return this.queue.run(sender, async () => this.member.open(group, sender, skmsg));
  }

  get mode(): SessionMode {
    return this.device.mode;
  }

  get jid(): string {
    return this.jidValue;
  }

  get identityKey(): Uint8Array {
    return this.device.identityKey;
  }

  /** Generates the keys (identity, signed prekey, five one-time prekeys) and publishes them. */
  static async create(deps: GatekeeperUserDeps, options: GatekeeperUserOptions = {}): Promise<LocalGatekeeperUser> {
    const user = new LocalGatekeeperUser(await newDevice(options.mode ?? 'classic', options), deps);
    user.receiptType = options.receiptType;
    user.deliveryReceipts = options.deliveryReceipts !== false;
    const entry = deps.directory.addGatekeeperUser(user.device.published, (stanza) => user.receive(stanza));
    user.jidValue = entry.jid;
    return user;
  }

  /**
   * A reinstall: a new identity key, new prekeys and no sessions, published under the same jid.
   * Peers see an identity change on the next message.
   */
  async replaceIdentity(): Promise<void> {
    await this.queue.all(async () => {
      this.device = await newDevice(this.device.mode, {});
      this.deps.directory.republishReference(this.jid, this.device.published);
    });
  }

  sendText(to: string, text: string): Promise<string> {
    return this.sendPayload(to, textPayload(text, paddingLength(this.deps.rng)));
  }

  sendPayload(to: string, plaintext: Uint8Array, options: { readonly media?: MediaKind } = {}): Promise<string> {
    // ENC-MEDIATYPE: as the messenger's clients write it, on the <enc> of a media message only.
    return this.sendNow(to, plaintext, { mediatype: options.media && ENC_MEDIATYPE[options.media] });
  }

  revoke(to: string, id: string): Promise<string> {
    return this.sendNow(to, pad(encodeMessage(revokeContent(to, id)), paddingLength(this.deps.rng)), {
      edit: SENDER_REVOKE_EDIT,
    });
  }

  private sendNow(to: string, plaintext: Uint8Array, stanza: DeliveryOptions): Promise<string> {
    return this.queue.run(to, async () => {
      const { type, ciphertext } = await this.encryptNow(to, plaintext);
      return this.sent(to, this.deliverNow(to, type, ciphertext, stanza), plaintext);
    });
  }

  encrypt(to: string, plaintext: Uint8Array): Promise<EncryptedMessage> {
    return this.queue.run(to, async () => this.kept(await this.encryptNow(to, plaintext), plaintext));
  }

  /** `encrypted`, its plaintext noted for the deliver that sends it. */
  private kept<E extends EncryptedMessage | EncryptedGroupMessage>(encrypted: E, plaintext: Uint8Array): E {
    this.plaintextOf.set(encrypted, plaintext);
    return encrypted;
  }

  /** Message `id`, delivered to `to`: noted in `sends` when its plaintext is known. */
  private sent(to: string, id: string, plaintext: Uint8Array | undefined): string {
    if (plaintext !== undefined) this.sends.push({ id, to, plaintext });
    return id;
  }

  encryptAhead(to: string, plaintext: Uint8Array, jump: number): Promise<EncryptedMessage> {
    return this.queue.run(to, async () => {
      try {
        return this.kept(await this.device.encryptAhead(to, plaintext, jump), plaintext);
      } catch (e) {
        throw new PreconditionError((e as Error).message, { cause: e });
      }
    });
  }

  deliverCiphertext(to: string, message: EncryptedMessage, id?: string): string {
    const sent = this.deliverNow(to, message.type, message.ciphertext, id === undefined ? {} : { id });
    return this.sent(to, sent, this.plaintextOf.get(message));
  }

  startSession(bundle: KeyBundle): Promise<void> {
    return this.queue.run(bundle.jid, () => this.processBundle(bundle));
  }

  private async encryptNow(to: string, plaintext: Uint8Array): Promise<EncryptedMessage> {
    await this.ensureSession(to);
    return this.device.encrypt(to, plaintext);
  }

  private deliverNow(to: string, type: EncType, ciphertext: Uint8Array, options: DeliveryOptions = {}): string {
    const id = options.id ?? this.deps.rng.string(20, ID_ALPHABET);
    const t = Math.floor(Date.now() / 1000);
    const message = deliveredMessage(id, this.jid, t, encElement(type, ciphertext, options.mediatype));
    const stanza =
      options.edit === undefined ? message : { ...message, attrs: { ...message.attrs, edit: options.edit } };
    const routed = this.deps.deliver(to, stanza);
    if (routed === 'unknown') throw new PreconditionError(`${to} is not a user the gatekeeper can deliver to`);
    return id;
  }

  waitForDelivery(match: (d: GatekeeperDelivery) => boolean, options: WaitOptions): Promise<GatekeeperDelivery | null> {
    return waitForRecorded(this.deliveries, this.delivered, match, options);
  }

  /** Takes a routed stanza: messages are decrypted, then receipted; receipts need nothing more. */
  receive(stanza: StanzaNode): void {
    if (stanza.tag !== 'message') return;
    const from = stanza.attrs['from'] ?? '';
    const sender = stanza.attrs['participant'];
    if (isGroupJid(from) && sender !== undefined) {
      void this.queue.run(sender, () => this.member.receive(stanza, from, sender)).catch(() => {});
      return;
    }
    void this.queue.run(from, () => this.decryptAndReceipt(stanza, from)).catch(() => {});
  }

  /**
   * Builds a session from the peer's published bundle when there is none yet, or when the peer now
   * publishes another identity key (a reinstall: the messenger accepts it and notes the change).
   */
  private async ensureSession(to: string): Promise<void> {
    const known = await this.device.knownIdentity(to);
    const published = this.deps.directory.identityOf(to);
    const identityMoved = known !== null && published !== undefined && !equalBytes(known, published);
    if ((await this.device.hasSession(to)) && !identityMoved) return;
    const bundle = this.deps.directory.takeBundle(to);
    if (!bundle) throw new PreconditionError(`no prekey bundle published for ${to}`);
    await this.processBundle(bundle);
  }

  private async processBundle(bundle: KeyBundle): Promise<void> {
    try {
      await this.device.processBundle(bundle);
    } catch (e) {
      // A bundle libsignal refuses (a bad signed-prekey signature, no Kyber prekey for a pq session)
      // leaves nothing to send with: the provider published it, so the case fails through it.
      throw new ProviderViolation(
        `a prekey bundle of ${bundle.jid} that libsignal accepts (KEYS-SIGNATURE, KEYS-KYBER)`,
        `the gatekeeper refused the bundle of ${bundle.jid}: ${(e as Error).message}`,
      );
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
        plaintext = new Uint8Array(await this.device.decrypt(from, enc.attrs['type'], ciphertext));
      } catch (e) {
        decryptError = e instanceof Error ? e.message : String(e);
      }
    }
    const delivery: GatekeeperDelivery = { stanza, from, id, enc, ciphertext, plaintext, decryptError };
    this.deliveries.push(delivery);
    this.delivered.emit(delivery);
    // RECEIPT-DELIVERY, as the messenger does it: only for a message it decrypted and can name.
    if (plaintext && id && this.deliveryReceipts)
      this.deps.deliver(
        from,
        receipt({
          id,
          from: this.jid,
          t: String(Math.floor(Date.now() / 1000)),
          ...(this.receiptType ? { type: this.receiptType } : {}),
        }),
      );
  }
}

/** Canonical base64 first; else Node's forgiving decoder (base64url, missing padding). */
function decodeLenient(text: string): Uint8Array | undefined {
  const strict = fromBase64(text);
  if (strict) return strict;
  const loose = Buffer.from(text, 'base64');
  return loose.length > 0 ? new Uint8Array(loose) : undefined;
}
