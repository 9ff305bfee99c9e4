/**
 * Everything the gatekeeper sends to a client, one element at a time (a WebSocket message over
 * xml-ws, a Noise frame over noise-binary). The client never
 * trusts the stream (docs/PROFILE.md §3): whatever arrives, it answers with the profile's answer
 * and keeps the connection. The robustness, ack and receipt faults live here.
 */
import { fromBase64 } from '../protocol/base64.js';
import { isCodecError, type StanzaCodec } from '../protocol/codec.js';
import { ENC_VERSION, GATEKEEPER_SERVER, PING_NS, type InboundCondition } from '../protocol/constants.js';
import type { ReceivedMessage, SecurityEvent } from '../protocol/driver-api.js';
import { child, node, type StanzaNode } from '../protocol/node.js';
import { decodeMessage, unpad } from '../protocol/payload.js';
import { closeElement, iqResult, type EncType } from '../protocol/stanzas.js';
import { CHATSTATE_TAG, readReceipt, retryReceipt } from '../protocol/messaging.js';
import { isGroupJid, readDeliveredGroup, readGroupChange } from '../protocol/groups.js';
import type { interop } from '../gen/message.js';
import { shownMessage } from './client-messaging.js';
import { isDuplicateMessage } from './client-stack.js';
import type { ElementWriter } from './client-wire.js';
import type { FaultSet } from './faults.js';

/** What the handler needs from the client and its connection. */
export interface InboundContext {
  readonly faults: FaultSet;
  readonly codec: StanzaCodec;
  /** noise-binary: a Noise frame's plaintext to its element; throws CodecError as `codec` does. */
  readonly decodeBinary: (plaintext: Uint8Array) => StanzaNode;
  readonly writer: ElementWriter;
  readonly registrationId: number;
  /** True once this side has sent `<close/>`, so that the server's `<close/>` is the answer, not a request. */
  isClosing(): boolean;
  /** Returns the padded plaintext; throws when the ciphertext cannot be decrypted. */
  decrypt(from: string, type: EncType, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** GROUP-IN: stores the distribution a pairwise `<enc>` carries, then opens the skmsg; the padded plaintext. */
  openGroup(
    group: string,
    sender: string,
    pairwise: { type: EncType; ciphertext: Uint8Array } | undefined,
    skmsg: Uint8Array,
  ): Promise<Uint8Array>;
  deliver(message: ReceivedMessage): void;
  /** REVOKE-IN: `sender` revoked its message `id`, in `group` when it was a group message. */
  revoke(sender: string, id: string, group: string | undefined): void;
  isMedia(message: interop.Message): boolean;
  /** Downloads and verifies media in the background, then shows it or raises an event. */
  /** `group`: the group the message came in, where it is shown (GROUP-IN); none in a 1:1 chat. */
  receiveMedia(id: string, from: string, message: interop.Message, group: string | undefined): Promise<void>;
  raise(event: SecurityEvent): void;
  /** BLOCK-HIDDEN: true when the user blocked `peer`. */
  isBlocked(peer: string): boolean;
  /** True once the user read a message of `peer`'s (READ-ON-MARK): only the `read-chat-stays-read` fault looks. */
  wasRead(peer: string): boolean;
  /** A receipt from a peer, after its ack: shown on the message, or a retry to answer. */
  onReceipt(receipt: StanzaNode): void;
  /** True when the client keeps message `id` as one it sent: only the `receipt-for-unknown-id-refused` fault asks. */
  wasSent(id: string): boolean;
  /** TYPING-IN */
  onChatState(chatState: StanzaNode): void;
  onOpen(open: StanzaNode): void;
  onAck(ack: StanzaNode): void;
  /** GROUP-CHANGE: members joined or left a group. */
  onGroupChange(change: { group: string; joined: readonly string[]; left: readonly string[] }): void;
  onIqResponse(iq: StanzaNode): void;
  onStreamError(error: StanzaNode): void;
}

/** What a refused element could be read far enough to say about itself. */
interface Identity {
  readonly class?: string | undefined;
  readonly id?: string | undefined;
}

/**
 * The `receipt-ack-deferred` fault holds a receipt's ack until the next element has been answered,
 * so that it goes out behind a ping right after the receipt whatever the machine's load; with no
 * element after it, it goes out this late.
 */
const DEFERRED_ACK_MS = 1000;

const nowSeconds = (): string => String(Math.floor(Date.now() / 1000));

/** The acks this client writes may lack attributes on lenient paths; node() drops undefined ones. */
const ackNode = (attrs: Record<string, string | undefined>): StanzaNode => node('ack', attrs);

export class InboundHandler {
  /** Peers that have had a delivery receipt: only the `receipt-first-only` fault looks. */
  private readonly receipted = new Set<string>();
  /** Retry receipts sent to each sender: only the `retry-count-per-sender` fault counts them. */
  private readonly retriesBySender = new Map<string, number>();
  /** Sender and stanza id of each message shown: only the `drop-seen-id-unanswered` fault reads it. */
  private readonly shownIds = new Set<string>();

  /** The `receipt-ack-deferred` fault's ack, held until the next element is answered. */
  private deferredAck: StanzaNode | undefined;

  constructor(private readonly ctx: InboundContext) {}

  /** Handles one WebSocket message; resolves when its answers have been written. */
  async handleFrame(frame: string): Promise<void> {
    let element: StanzaNode;
    try {
      element = this.ctx.codec.decode(frame);
    } catch (e) {
      if (!isCodecError(e)) throw e;
      this.refuse(e.condition, identify(frame, this.ctx.faults));
      return;
    }
    await this.dispatch(element);
  }

  /** Handles one Noise frame's plaintext (noise-binary): the flags byte, then a binary node. */
  async handleBinary(plaintext: Uint8Array): Promise<void> {
    let element: StanzaNode;
    try {
      element = this.ctx.decodeBinary(plaintext);
    } catch (e) {
      if (!isCodecError(e)) throw e;
      this.refuse(e.condition, {});
      return;
    }
    await this.dispatch(element);
  }

  private async dispatch(n: StanzaNode): Promise<void> {
    const deferred = this.deferredAck;
    this.deferredAck = undefined;
    await this.handle(n);
    if (deferred) this.writeLate(deferred);
  }

  private async handle(n: StanzaNode): Promise<void> {
    switch (n.tag) {
      case 'message':
        return this.onMessage(n);
      case 'receipt':
        return this.onReceipt(n);
      case 'ack':
        // Acks are never answered, not even malformed ones: two peers answering each other's acks loop.
        return this.ctx.onAck(n);
      case 'notification':
        return this.onNotification(n);
      case 'iq':
        return this.onIq(n);
      case CHATSTATE_TAG:
        // TYPING-IN: shown, never answered.
        return this.ctx.onChatState(n);
      // noise-binary's `<success/>`: the login succeeded (whatsmeow handleConnectSuccess, Baileys CB:success).
      case 'open':
      case 'success':
        return this.ctx.onOpen(n);
      case 'stream:error':
        // RFC 6120 §4.9.1.1: a stream error is unrecoverable; the stream ends.
        this.ctx.onStreamError(n);
        this.ctx.writer.write(closeElement());
        return this.ctx.writer.closeSocket();
      case 'close':
        // RFC 7395 §3.6: answer the server's `<close/>` with ours, unless ours came first.
        if (!this.ctx.isClosing()) this.ctx.writer.write(closeElement());
        return this.ctx.writer.closeSocket();
      case 'xmlstreamend':
        // noise-binary: the server ended the stream; the lineage closes the socket, nothing more.
        return this.ctx.writer.closeSocket();
      default:
        return this.refuse('feature-not-implemented', { class: n.tag, id: n.attrs['id'] });
    }
  }

  /**
   * GROUP-CHANGE: a change of a group's members is taken, then acked as the lineage acks every
   * notification, with its `type` and `participant`; a notification of another kind is only acked.
   */
  private onNotification(n: StanzaNode): void {
    const { id, from, type, participant } = n.attrs;
    if (id === undefined || from === undefined) return this.refuse('bad-request', { class: n.tag, id });
    const change = readGroupChange(n);
    const { faults, writer } = this.ctx;
    if (change && !faults.has('group-members-stale')) this.ctx.onGroupChange(change);
    // ACK-NOTIFICATION: the fault takes a notification it cannot handle for one it must refuse.
    if (!change && faults.has('unhandled-notification-refused'))
      return this.refuse('feature-not-implemented', { class: n.tag, id });
    if (faults.has('notification-no-ack')) return;
    // ACK-NOTIFICATION: the fault acks a notification it does not handle to the server, not to its `from`.
    if (!change && faults.has('unhandled-notification-ack-to-server'))
      return writer.write(ackNode({ class: 'notification', id, to: GATEKEEPER_SERVER, type, participant }));
    writer.write(
      ackNode({
        class: 'notification',
        id,
        to: from,
        type: faults.has('notification-ack-untyped') ? undefined : type,
        participant: faults.has('notification-ack-no-participant') ? undefined : participant,
      }),
    );
  }

  /** IN-ERROR: the one place a bad element is answered; `item-not-found` is only the `receipt-for-unknown-id-refused` fault's. */
  private refuse(condition: InboundCondition | 'item-not-found', about: Identity): void {
    const { faults, writer } = this.ctx;
    if (faults.has('ignore-bad-stanzas')) return;
    const error = faults.has('generic-error') ? 'bad-request' : condition;
    const kind = faults.has('error-ack-class-message') && about.class !== undefined ? 'message' : about.class;
    // IN-ERROR: the fault leaves out the id of the element it refuses.
    writer.write(ackNode({ class: kind, id: faults.has('error-ack-without-id') ? undefined : about.id, error }));
    if (faults.has('close-on-error')) writer.closeSocket();
  }

  private async onMessage(n: StanzaNode): Promise<void> {
    const { faults } = this.ctx;
    const { id, from, t } = n.attrs;
    // IN-ORDER: the fault opens a group message off the read loop (sender-key work), so the next
    // element is answered before it; a one-to-one message is still answered in order.
    if (isGroupJid(from) && faults.has('group-messages-off-read-loop')) {
      void this.onGroupMessage(n, from).catch(() => undefined);
      return;
    }
    if (isGroupJid(from)) return this.onGroupMessage(n, from);
    const enc = child(n, 'enc');
    const type = enc?.attrs['type'];
    const ciphertext = encBytes(enc);
    const encOk = encAccepted(enc, ciphertext, PAIRWISE_TYPES, faults);
    const attrsOk = id !== undefined && from !== undefined && t !== undefined;
    // MAILBOX-DRAIN: the fault refuses, as a replay, a message whose t is more than 300 s from its clock.
    const stale = faults.has('message-t-window-refused') && Math.abs(Number(t) - Date.now() / 1000) > 300;
    if (!encOk || stale || (!attrsOk && !faults.has('lenient-attributes'))) {
      return this.refuse('bad-request', { class: 'message', id });
    }
    await this.openAndShow(n, from ?? '', () =>
      this.ctx.decrypt(from ?? '', (type ?? 'msg') as EncType, ciphertext ?? new Uint8Array()),
    );
  }

  /** GROUP-IN: `participant` sent it; the member's pairwise `<enc>`, if any, carries its sender key. */
  private async onGroupMessage(n: StanzaNode, group: string): Promise<void> {
    const { faults } = this.ctx;
    const { id, participant, t } = n.attrs;
    const { pairwise, skmsg } = readDeliveredGroup(n);
    const skBytes = encBytes(skmsg);
    const pairType = pairwise?.attrs['type'];
    const pairBytes = encBytes(pairwise);
    // The same rules as a one-to-one message's `<enc>`, for the skmsg and the pairwise `<enc>` beside it.
    const pairOk = pairwise === undefined || encAccepted(pairwise, pairBytes, PAIRWISE_TYPES, faults);
    const skOk = encAccepted(skmsg, skBytes, ['skmsg'], faults);
    const attrsOk = id !== undefined && t !== undefined && participant !== undefined;
    // The fault checks nothing here, and refuses whatever it then cannot open: a group it does not
    // know, or an skmsg it holds no sender key for, is as malformed to it as a message without `t`.
    const unplaceable = faults.has('refuse-unplaceable-group');
    if (!unplaceable && (!skOk || !pairOk || (!attrsOk && !faults.has('lenient-attributes')))) {
      return this.refuse('bad-request', { class: 'message', id });
    }
    const sender = participant ?? '';
    // GROUP-IN: the fault reads a sender key only from a prekey message, not over an established session.
    const readable = pairwise && pairBytes && (pairType === 'pkmsg' || !faults.has('distribution-prekey-only'));
    const carried = readable ? { type: pairType as EncType, ciphertext: pairBytes } : undefined;
    await this.openAndShow(n, sender, () => this.ctx.openGroup(group, sender, carried, skBytes ?? new Uint8Array()));
  }

  /**
   * Decrypts with `open`, then shows and answers: a receipt, a retry receipt, or an ack alone for a
   * duplicate.
   */
  private async openAndShow(n: StanzaNode, peer: string, open: () => Promise<Uint8Array>): Promise<void> {
    const { faults } = this.ctx;
    const { id, from, participant } = n.attrs;
    // The fault takes a stanza id it has shown as the message's copy, and drops it unanswered.
    const key = `${from ?? ''} ${participant ?? ''} ${id ?? ''}`;
    // The other fault dedupes by stanza id before decrypting: a re-send for a retry receipt is acked as a duplicate.
    if (faults.has('stanza-id-dedupe-drops-resend')) {
      if (this.shownIds.has(key)) return this.onDuplicate(n, 'a stanza id seen before');
      this.shownIds.add(key);
    }
    if (faults.has('drop-seen-id-unanswered') && this.shownIds.has(key)) return;
    let message: interop.Message;
    try {
      message = readMessage(await open(), faults);
    } catch (e) {
      if (isDuplicateMessage(e)) return this.onDuplicate(n, e.message);
      // The fault answers a group message it cannot open as malformed, in place of the retry receipt.
      if (faults.has('refuse-unplaceable-group') && isGroupJid(from))
        return this.refuse('bad-request', { class: 'message', id });
      return this.onUndecryptable(n, e instanceof Error ? e.message : String(e));
    }
    // BLOCK-HIDDEN: a blocked peer's message is acked, and neither shown nor receipted (the faults
    // receipt it, or drop it unacked). In a group the peer is the member who sent it, not the group.
    // A file too: the fault lets a blocked peer's file through to the media path.
    const sender = faults.has('blocked-group-member-shown') ? (from ?? peer) : peer;
    // The other fault lets a blocked peer's reaction through the same way, to be shown and receipted.
    const mediaSlips =
      (faults.has('blocked-media-shown') && this.ctx.isMedia(message)) ||
      (faults.has('blocked-reaction-shown') && Boolean(message.reactionMessage));
    if (this.ctx.isBlocked(sender) && !mediaSlips) {
      const acked = faults.has('blocked-message-unacked') ? [] : this.messageAck(n);
      if (faults.has('receipt-to-blocked'))
        acked.push(node('receipt', { id, to: from, participant, type: 'inactive' }));
      return this.answer(acked);
    }
    // The Signal message decrypted: it is acked and receipted now; its media may still be refused.
    const group = participant === undefined ? undefined : from;
    // The message a revoke takes out of sight: only the `revoke-not-receipted` fault looks.
    let revokes: string | undefined;
    // GROUP-IN for media too: the fault shows a group's file in the sender's 1:1 chat; the other
    // fault shows it as sent by the group, the stanza's `from`, not the member in `participant`.
    if (this.ctx.isMedia(message) && group !== undefined && faults.has('group-media-shown-from-group'))
      void this.ctx.receiveMedia(id ?? '', group, message, group);
    else if (this.ctx.isMedia(message))
      void this.ctx.receiveMedia(id ?? '', peer, message, faults.has('group-media-as-direct') ? undefined : group);
    else {
      const shown = shownMessage(id ?? '', peer, message, faults);
      revokes = shown.revokes;
      if (shown.revokes !== undefined) this.ctx.revoke(peer, shown.revokes, group);
      // REACTION-IN: the fault shows a reaction as sent by its key's remoteJid, which names the chat
      // from the reactor's side: for a reaction to the user's own message, the user itself.
      // REPLY-IN: the other fault shows a reply as sent by the sender of the message it quotes.
      const shownFrom = faults.has('reaction-shown-from-remote-jid')
        ? message.reactionMessage?.key?.remoteJid
        : faults.has('reply-shown-from-quoted-sender') && shown.message?.replyTo !== undefined
          ? message.extendedTextMessage?.contextInfo?.participant || undefined
          : undefined;
      if (shown.message && shownFrom) this.ctx.deliver({ ...shown.message, from: shownFrom });
      else if (shown.message) this.ctx.deliver({ ...shown.message, ...(group === undefined ? {} : { group }) });
      if (faults.has('drop-seen-id-unanswered')) this.shownIds.add(key);
    }
    const answers = this.messageAck(n);
    // RECEIPT-EACH: the fault receipts only the first message of each peer.
    const receipt =
      !faults.has('no-delivery-receipt') && !(faults.has('receipt-first-only') && this.receipted.has(peer));
    this.receipted.add(peer);
    // As WhatsApp's clients write it while not marked available: type="inactive" and no t (the
    // fault writes one, in milliseconds).
    // REVOKE-HIDDEN: the fault receipts only what shows in the thread, and a revoke shows nothing.
    if (receipt && !(revokes !== undefined && faults.has('revoke-not-receipted')))
      answers.push(
        node('receipt', {
          id,
          to: from,
          // GROUP-IN: the fault leaves out whose group message it was.
          participant: faults.has('group-receipt-no-participant') ? undefined : participant,
          type: 'inactive',
          t: faults.has('timestamp-ms') ? String(Date.now()) : undefined,
        }),
      );
    // READ-ONLY-MARKED: the faults read for the user, always, or in a chat it read before.
    const readsFor = faults.has('read-on-delivery') || (faults.has('read-chat-stays-read') && this.ctx.wasRead(peer));
    // Addressed as the user's own read would be (GROUP-FANOUT): the faults' mistake is when, not where.
    if (readsFor && id !== undefined) answers.push(readReceipt(id, from ?? peer, nowSeconds(), participant));
    // RECEIPT-EACH: the fault names, in a reaction's delivery receipt, the message it points at.
    const target = faults.has('reaction-receipt-names-target') ? message.reactionMessage?.key?.id : undefined;
    this.answer(
      target
        ? answers.map((a) =>
            a.tag === 'receipt' && a.attrs['type'] === 'inactive' ? { ...a, attrs: { ...a.attrs, id: target } } : a,
          )
        : answers,
    );
  }

  /** ENC-REPLAY: a message already received is acked and reported, never shown again nor retried. */
  private onDuplicate(n: StanzaNode, reason: string): void {
    this.ctx.raise({ type: 'duplicate', peer: n.attrs['participant'] ?? n.attrs['from'] ?? '', detail: reason });
    // The fault drops a replay without a word: no ack, no receipt.
    if (!this.ctx.faults.has('silent-on-duplicate')) this.answer(this.messageAck(n));
  }

  /** RECEIPT-AFTER-DECRYPT: a retry receipt asks the sender for a fresh copy; never a delivery receipt. */
  private onUndecryptable(n: StanzaNode, reason: string): void {
    const { faults } = this.ctx;
    const { id, from, t, participant } = n.attrs;
    this.ctx.raise({ type: 'decryption-failure', peer: participant ?? from ?? '', detail: reason });
    const now = nowSeconds();
    const answers = this.messageAck(n);
    if (faults.has('receipt-on-failure')) answers.push(node('receipt', { id, to: from, participant, t: now }));
    // RETRY-RECEIPT: the first request for this message, with the registration id.
    const count = faults.has('retry-count-zero') ? 0 : 1;
    const sender = participant ?? from ?? '';
    // The fault numbers the requests by sender, so a second message's first request is not 1.
    const counted = faults.has('retry-count-per-sender') ? (this.retriesBySender.get(sender) ?? 0) + 1 : count;
    this.retriesBySender.set(sender, counted);
    // The receipt's own t is optional (WhatsApp's clients leave it out); the fault writes it in milliseconds.
    const own = faults.has('timestamp-ms') ? String(Date.now()) : now;
    const plain = retryReceipt({
      id: id ?? '',
      to: from ?? '',
      t: own,
      count: counted,
      registrationId: this.ctx.registrationId,
      messageT: faults.has('retry-t-own-clock') ? now : (t ?? now),
    });
    const retry = participant === undefined ? plain : { ...plain, attrs: { ...plain.attrs, participant } };
    if (faults.has('retry-no-registration'))
      answers.push({ ...retry, children: retry.children.filter((c) => c.tag !== 'registration') });
    else answers.push(retry);
    this.answer(answers);
  }

  /** ACK-MESSAGE: every delivered message is acked, whether it decrypted or not; a group message's names its sender (GROUP-FANOUT). */
  private messageAck(n: StanzaNode): StanzaNode[] {
    const { faults } = this.ctx;
    if (faults.has('no-ack')) return [];
    const { id, from } = n.attrs;
    // GROUP-FANOUT: the fault names the group where the member who sent it belongs.
    const participant =
      n.attrs['participant'] !== undefined && faults.has('group-ack-participant-group') ? from : n.attrs['participant'];
    return [ackNode({ class: 'message', id, to: from, participant })];
  }

  /** FRAME-ONE-ELEMENT: each answer in its own WebSocket message. */
  private answer(nodes: readonly StanzaNode[]): void {
    if (this.ctx.faults.has('batch-elements') && nodes.length > 1) return this.ctx.writer.writeBatch(nodes);
    for (const n of nodes) this.ctx.writer.write(n);
  }

  /** ACK-RECEIPT */
  private onReceipt(n: StanzaNode): void {
    const { id, from, type } = n.attrs;
    if (id === undefined || from === undefined) return this.refuse('bad-request', { class: 'receipt', id });
    // ACK-RECEIPT: the fault takes a receipt for a message it does not keep as sent (a group
    // message's, or one past its cache) for one that names nothing, and refuses it.
    if (this.ctx.faults.has('receipt-for-unknown-id-refused') && !this.ctx.wasSent(id))
      return this.refuse('item-not-found', { class: 'receipt', id });
    if (!this.ctx.faults.has('no-receipt-ack')) {
      // ACK-RECEIPT-TYPE: the fault leaves the receipt's type out of its ack.
      const ack = ackNode({
        class: 'receipt',
        id,
        to: from,
        type: this.ctx.faults.has('ack-receipt-no-type') ? undefined : type,
      });
      // IN-ORDER: the fault writes the ack from a task of its own, behind what came after the receipt.
      if (this.ctx.faults.has('receipt-ack-deferred')) this.deferAck(ack);
      else this.ctx.writer.write(ack);
    }
    this.ctx.onReceipt(n);
  }

  /** The `receipt-ack-deferred` fault: the ack goes out after the next element's answers, or at the latest DEFERRED_ACK_MS on. */
  private deferAck(ack: StanzaNode): void {
    this.deferredAck = ack;
    setTimeout(() => {
      if (this.deferredAck !== ack) return;
      this.deferredAck = undefined;
      this.writeLate(ack);
    }, DEFERRED_ACK_MS).unref();
  }

  /** The `receipt-ack-deferred` fault's late write, to a connection that may have closed since. */
  private writeLate(n: StanzaNode): void {
    try {
      this.ctx.writer.write(n);
    } catch {
      /* the connection closed first */
    }
  }

  private onIq(n: StanzaNode): void {
    const { id, type, xmlns } = n.attrs;
    const { faults } = this.ctx;
    if (id === undefined || (type === undefined && !faults.has('iq-without-type-unknown')))
      return this.refuse('bad-request', { class: 'iq', id });
    // IQ-ERROR: the fault takes only a result as an answer, and refuses an error as unknown.
    if (type === 'error' && faults.has('iq-error-not-a-response'))
      return this.refuse('feature-not-implemented', { class: 'iq', id });
    if (type === 'error' && faults.has('iq-error-ignored')) return;
    if (type === 'result' || type === 'error') return this.ctx.onIqResponse(n);
    // PING: the fault answers a ping only with no child, and refuses one carrying `<ping/>` as unknown.
    if (type === 'get' && xmlns === PING_NS && n.children.length > 0 && faults.has('ping-with-child-ignored'))
      return this.refuse('feature-not-implemented', { class: 'iq', id });
    if ((type === 'get' && xmlns === PING_NS) || faults.has('pong-any-iq')) {
      // PING
      if (!this.ctx.faults.has('ignore-ping')) this.ctx.writer.write(iqResult(id));
      return;
    }
    this.refuse('feature-not-implemented', { class: 'iq', id });
  }
}

/** An `<enc>`'s ciphertext; null when absent or not base64. An empty `<enc/>` is zero bytes: it reaches decryption, and fails there. */
function encBytes(enc: StanzaNode | undefined): Uint8Array | null {
  return enc === undefined || enc.children.length > 0 ? null : fromBase64(enc.text ?? '');
}

/** The padded plaintext to its `Message` (PAYLOAD-PADDING, PAYLOAD-PROTOBUF); throws when it is not one. */
const PAIRWISE_TYPES: readonly string[] = ['pkmsg', 'msg'];

/**
 * IN-BAD-REQUEST's rules for an `<enc>`: there, of v="2", of one of `types`, its ciphertext readable
 * (`bytes`). Each fault reads past one rule; what it lets through then fails decryption.
 */
function encAccepted(
  enc: StanzaNode | undefined,
  bytes: Uint8Array | null,
  types: readonly string[],
  faults: FaultSet,
): boolean {
  if (enc === undefined) return faults.has('accept-message-without-enc');
  return (
    (enc.attrs['v'] === ENC_VERSION || faults.has('accept-any-enc-version')) &&
    (types.includes(enc.attrs['type'] ?? '') || faults.has('accept-any-enc-type')) &&
    (bytes !== null || faults.has('accept-unreadable-enc'))
  );
}

function readMessage(padded: Uint8Array, faults: FaultSet): interop.Message {
  // An off-by-one upper bound (n < 15), which only the padding WhatsApp's clients draw once in eight times meets.
  if (faults.has('refuse-padding-15') && padded.at(-1) === 15) throw new Error('padding: 15 is not below 15');
  const unpadded = unpad(padded);
  if (!unpadded.ok) throw new Error(`padding: ${unpadded.reason}`);
  return decodeMessage(unpadded.bytes);
}

const START_TAG = /^\s*<([A-Za-z_][\w.:-]*)(?=[\s/>])([^<>]*)>/;
const ID_ATTR = /\sid\s*=\s*(?:"([^"<&]*)"|'([^'<&]*)')/;

/**
 * The class and id of an element the codec refused, when its start tag comes first and reads
 * plainly (IN-ERROR: "whenever the element could be parsed far enough"). Never more than a regex
 * over the start tag: nothing in a refused frame is parsed further.
 */
function identify(frame: string, faults: FaultSet): Identity {
  // The fault reads only the first 256 characters: a longer start tag gives no id.
  const start = START_TAG.exec(frame.slice(0, faults.has('refused-id-short-window') ? 256 : 4096));
  if (!start) return {};
  const id = ID_ATTR.exec(start[2] ?? '');
  return { class: start[1], id: id?.[1] ?? id?.[2] };
}
