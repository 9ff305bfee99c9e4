/**
 * What the client keeps for the messaging features (docs/PROFILE.md §14): the receipts and typing
 * indicators its user is shown, the peers it blocked, and the messages it sent, so that a retry
 * receipt can be answered with a fresh copy. The messaging faults that touch this state live here.
 */
import type { interop } from '../gen/message.js';
import type { Indicators, ReceivedMessage, ShownReceipt } from '../protocol/driver-api.js';
import { MAX_RESENDS, readChatState, revokedId } from '../protocol/messaging.js';
import type { StanzaNode } from '../protocol/node.js';
import { isDeliveryReceipt } from '../protocol/stanzas.js';
import { decodeMessage, encodeMessage, pad, unpad } from '../protocol/payload.js';
import { mangleText } from './client-outbound.js';
import type { FaultSet } from './faults.js';

/** A message this client sent, kept until it has been re-sent as often as RETRY-MAX allows. */
interface Sent {
  readonly to: string;
  readonly plaintext: Uint8Array;
  /** A media message's kind on its `<enc>`, which a re-send carries again (ENC-MEDIATYPE). */
  readonly mediatype: string | undefined;
  resends: number;
}

/** A re-send a retry receipt asked for: the original plaintext, and the `count` to put on `<enc>`. */
export interface Resend {
  readonly id: string;
  readonly to: string;
  readonly plaintext: Uint8Array;
  readonly mediatype: string | undefined;
  readonly count: number;
}

/** Sent messages kept for re-sending; older ones are forgotten past this many. */
const KEPT_SENT = 256;

export class MessagingState {
  private readonly receipts: ShownReceipt[] = [];
  private readonly typing: string[] = [];
  private readonly blocked = new Set<string>();
  /** Peers a message of whose the user read. */
  private readonly readChats = new Set<string>();
  private readonly sent = new Map<string, Sent>();

  constructor(private readonly faults: FaultSet) {}

  indicators(): Indicators {
    return { receipts: [...this.receipts], typing: [...this.typing] };
  }

  /** BLOCK-HIDDEN */
  isBlocked(peer: string): boolean {
    return this.blocked.has(peer) && !this.faults.has('show-blocked');
  }

  /** BLOCK-IQ, UNBLOCK */
  setBlocked(peer: string, blocked: boolean): void {
    if (blocked) this.blocked.add(peer);
    else if (!this.faults.has('stay-blocked')) this.blocked.delete(peer);
  }

  /** The `blocklist-per-connection` fault: every peer the user blocked is forgotten. */
  dropBlocked(): void {
    this.blocked.clear();
  }

  /** READ-ON-MARK: the user read a message of `peer`'s. */
  read(peer: string): void {
    this.readChats.add(peer);
  }

  wasRead(peer: string): boolean {
    return this.readChats.has(peer);
  }

  wasSent(id: string): boolean {
    return this.sent.has(id);
  }

  remember(id: string, to: string, plaintext: Uint8Array, mediatype?: string): void {
    this.sent.set(id, { to, plaintext, mediatype, resends: 0 });
    if (this.sent.size > KEPT_SENT) this.sent.delete(this.sent.keys().next().value as string);
  }

  /** The `sent-messages-per-connection` fault: every message sent is forgotten. */
  dropSent(): void {
    this.sent.clear();
  }

  /** The latest message sent to `peer`, kept for re-sending. */
  private latestTo(peer: string): string | undefined {
    return [...this.sent].findLast(([, s]) => s.to === peer)?.[0];
  }

  /** RECEIPT-SHOWN: a delivery or read receipt from the peer a message went to is shown on it. */
  showReceipt(r: StanzaNode): void {
    const { id, from, type } = r.attrs;
    if (id === undefined || from === undefined) return;
    // A receipt from anyone but the recipient names no message of this chat (Baileys keys it by
    // the chat it came from), so it is ignored.
    const sent = this.sent.get(id);
    if (sent === undefined || (sent.to !== from && !this.faults.has('receipt-from-anyone'))) return;
    // The fault takes only a receipt with no type for a delivery receipt, not one marked inactive.
    const delivery = this.faults.has('inactive-receipt-hidden') ? type === undefined : isDeliveryReceipt(r);
    // The other fault takes every receipt but a read receipt for a delivery receipt: a retry receipt
    // too, which says the recipient could not decrypt the message (RECEIPT-AFTER-DECRYPT).
    const asDelivery = delivery || (type !== 'read' && this.faults.has('retry-receipt-shown-delivered'));
    if (
      (asDelivery || (type === 'read' && this.faults.has('read-shown-as-delivered'))) &&
      !this.faults.has('hide-delivery-receipts')
    )
      this.receipts.push({ id, peer: from, type: 'delivery' });
    // The fault shows a read receipt on the latest message sent to the peer, whichever one it names.
    const readOn = this.faults.has('read-shown-on-latest') ? (this.latestTo(from) ?? id) : id;
    // The fault takes a read receipt for a step after the delivery receipt, and drops one that comes first.
    const delivered = this.receipts.some((x) => x.id === id && x.type === 'delivery');
    if (type === 'read' && !delivered && this.faults.has('read-shown-only-after-delivered')) return;
    if (type === 'read' && !this.faults.has('hide-read-receipts'))
      this.receipts.push({ id: readOn, peer: from, type: 'read' });
  }

  /** TYPING-IN */
  showTyping(n: StanzaNode): void {
    const from = n.attrs['from'];
    if (
      from === undefined ||
      (readChatState(n) !== 'composing' && !this.faults.has('paused-shown-as-typing')) ||
      this.faults.has('typing-not-shown') ||
      this.isBlocked(from)
    )
      return;
    this.typing.push(from);
  }

  /** RETRY-RESEND, RETRY-MAX: the message a retry receipt from its recipient asks for, if it may be re-sent. */
  resendFor(r: StanzaNode): Resend | undefined {
    const { id, from } = r.attrs;
    const sent = id === undefined ? undefined : this.sent.get(id);
    // A retry from anyone but the recipient names no message of its chat (both lineage clients look
    // the message up by the receipt's chat), so it is ignored.
    if (id === undefined || !sent || (sent.to !== from && !this.faults.has('retry-from-anyone'))) return undefined;
    if (sent.resends >= MAX_RESENDS && !this.faults.has('retry-unbounded')) return undefined;
    sent.resends++;
    // The fault forgets a message once re-sent: a second retry receipt for it finds nothing.
    if (this.faults.has('forget-resent')) this.sent.delete(id);
    // The fault re-sends what it would keep of a message, its text alone: a reply loses its quote.
    const plaintext = this.faults.has('resend-text-only') ? textOnly(sent.plaintext) : sent.plaintext;
    // The fault numbers every re-send as the first: `count="1"` on the second and later ones too.
    if (this.faults.has('resend-count-always-one'))
      return { id, to: sent.to, plaintext, mediatype: sent.mediatype, count: 1 };
    return { id, to: sent.to, plaintext, mediatype: sent.mediatype, count: sent.resends };
  }
}

/**
 * What a received `Message` (not media) does to the thread: a message it shows (a text, a reply
 * quoting its message, a reaction, or a notice in place of a kind the client does not show), and
 * the message it revokes, if any.
 */
export interface Shown {
  readonly message?: ReceivedMessage;
  /** REVOKE-IN: the id of the sender's message to take out of sight. */
  readonly revokes?: string;
}

/** REACTION-IN, REPLY-IN, REVOKE-HIDDEN, REVOKE-IN, MSG-UNKNOWN-KIND */
export function shownMessage(id: string, from: string, message: interop.Message, faults: FaultSet): Shown {
  // ENC-CONTENT: the fault drops the line breaks that end a text it shows, as a bubble renderer might.
  if (faults.has('received-trailing-newline-trimmed')) message = withoutTrailingBreaks(message);
  const sent = message.reactionMessage;
  // The fault keeps the emoji's first code point only: a skin tone, a flag's second letter, the rest
  // of a ZWJ sequence are cut.
  const cut = sent?.text && faults.has('reaction-emoji-first-codepoint') ? { ...sent, text: [...sent.text][0] } : sent;
  // The other fault strips presentation selectors, as an emoji font that has text-style forms only.
  const reaction =
    cut?.text && faults.has('reaction-emoji-fe0f-stripped-in')
      ? { ...cut, text: cut.text.replace(/\uFE0F/g, '') }
      : cut;
  const reactedTo = reaction?.key?.id;
  // The fault reads fromMe from its own side and keeps only reactions to its user's messages.
  if (reaction?.key?.fromMe && faults.has('reaction-in-own-only')) return {};
  // REACTION-IN: shown on the message it names, not as a text of its own; an empty text is the
  // reaction's removal, shown on that message too (the driver's entry with an empty emoji).
  if (reaction && reactedTo && (reaction.text || !faults.has('reaction-removal-unsupported')))
    return {
      message: faults.has('ignore-reactions')
        ? { id, from, text: '' }
        : { id, from, text: '', reaction: { id: reactedTo, emoji: reaction.text ?? '' } },
    };
  const revoked = faults.has('unknown-protocol-as-revoke')
    ? message.protocolMessage?.key?.id || undefined
    : revokedId(message);
  // REVOKE-HIDDEN, REVOKE-IN: a revoke is no message of its own; it takes its sender's message out of sight.
  if (revoked !== undefined) {
    if (faults.has('ignore-revoke')) return {};
    return faults.has('show-revoke-as-text')
      ? { revokes: revoked, message: { id, from, text: '' } }
      : { revokes: revoked };
  }
  const extended = message.extendedTextMessage;
  if (!Object.hasOwn(message, 'conversation') && !extended) {
    // MSG-UNKNOWN-KIND: never a text; a protocol message the client does not act on shows nothing,
    // a kind it does not know a notice in its place.
    if (faults.has('show-unknown-as-empty-text')) return { message: { id, from, text: '' } };
    return message.protocolMessage ? {} : { message: { id, from, text: '', notice: 'unsupported' } };
  }
  const text = mangleText(message.conversation || extended?.text || '', faults);
  const unmarked = faults.has('received-text-bom-stripped') ? text.replace(/^\uFEFF/, '') : text;
  // The fault escapes the text for HTML where it stores it, as a web view's sanitiser would.
  const shown = faults.has('received-text-html-escaped') ? escapeHtml(unmarked) : unmarked;
  const quoted = extended?.contextInfo?.stanzaId;
  // REPLY-IN: the quoted message is the user's own or the peer's (contextInfo.participant the peer); both are shown.
  const dropped =
    faults.has('drop-quote') || (extended?.contextInfo?.participant === from && faults.has('reply-in-own-only'));
  return { message: quoted && !dropped ? { id, from, text: shown, replyTo: quoted } : { id, from, text: shown } };
}

/** `text` escaped for HTML: the `received-text-html-escaped` fault's. */
const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `message` with the line breaks that end its text cut: the `received-trailing-newline-trimmed` fault's. */
function withoutTrailingBreaks(message: interop.Message): interop.Message {
  const copy = decodeMessage(encodeMessage(message));
  const cut = (text: string): string => text.replace(/[\r\n]+$/, '');
  if (copy.conversation) copy.conversation = cut(copy.conversation);
  if (copy.extendedTextMessage?.text) copy.extendedTextMessage.text = cut(copy.extendedTextMessage.text);
  return copy;
}

/** A padded `Message` rebuilt from its text alone, as a plain `conversation`; the `resend-text-only` fault's. */
function textOnly(padded: Uint8Array): Uint8Array {
  const r = unpad(padded);
  if (!r.ok) return padded;
  const m = decodeMessage(r.bytes);
  return pad(encodeMessage({ conversation: m.conversation || m.extendedTextMessage?.text || '' }));
}

/** RETRY-RESEND: the re-sent message's `<enc>` carries `count`, the number of this re-send. */
export function withEncCount(n: StanzaNode, count: number): StanzaNode {
  if (n.tag === 'enc') return { ...n, attrs: { ...n.attrs, count: String(count) } };
  return { ...n, children: n.children.map((c) => withEncCount(c, count)) };
}
