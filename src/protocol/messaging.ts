/**
 * The stanzas of the messaging features (docs/PROFILE.md §14), shared by the gatekeeper and the
 * reference provider: read and retry receipts, typing indicators, the blocklist IQ, and the message
 * contents of reactions, replies and revokes. Readers return null on a shape they cannot read.
 */
import { interop } from '../gen/message.js';
import { fromBase64, toBase64 } from './base64.js';
import { GATEKEEPER_SERVER } from './constants.js';
import { child, node, type StanzaNode } from './node.js';
import type { MessageContent } from './payload.js';
import { uintBytes } from './stanzas.js';

/**
 * RETRY-MAX: how many times a sender re-sends one message for retry receipts: the largest bound of
 * the lineage, whose clients re-send up to 5 (Baileys) and 9 (whatsmeow) times.
 * @see Baileys `lib/Socket/messages-recv.js` willSendMessageAgain (maxMsgRetryCount); whatsmeow
 * `retry.go` handleRetryReceipt.
 */
export const MAX_RESENDS = 9;
/** Namespace of the blocklist IQ (BLOCK-IQ). */
export const BLOCKLIST_NS = 'blocklist';
/** The typing indicator's element and its two states (TYPING-OUT). */
export const CHATSTATE_TAG = 'chatstate';
export type ChatState = 'composing' | 'paused';

/** READ-ON-MARK: `<receipt type="read" id to t/>`; a group message's names its sender in `participant` (GROUP-FANOUT). */
export const readReceipt = (id: string, to: string, t: string, participant?: string): StanzaNode =>
  node('receipt', { id, to, t, type: 'read', ...(participant === undefined ? {} : { participant }) });

/**
 * RETRY-RECEIPT: `<receipt type="retry" id to t><retry count id t v="1"/><registration/></receipt>`,
 * `count` the number of this request for the message (1 for the first).
 */
export const retryReceipt = (a: {
  id: string;
  to?: string;
  from?: string;
  t: string;
  count: number;
  registrationId: number;
  messageT?: string;
}): StanzaNode =>
  node('receipt', { id: a.id, to: a.to, from: a.from, t: a.t, type: 'retry' }, [
    node('retry', { count: String(a.count), id: a.id, t: a.messageT ?? a.t, v: '1' }),
    node('registration', {}, toBase64(uintBytes(a.registrationId, 4))),
  ]);

/** The registration id of a retry receipt: 4 bytes, big-endian; null when absent or another length. */
export function retryRegistration(r: StanzaNode): number | null {
  const text = child(r, 'registration')?.text;
  const bytes = text === undefined ? null : fromBase64(text);
  return bytes && bytes.length === 4 ? bytes.reduce((acc, b) => acc * 256 + b, 0) : null;
}

/** The `count` of a retry receipt's `<retry>`, or null when it has none that reads as a number. */
export function retryCount(r: StanzaNode): number | null {
  const count = child(r, 'retry')?.attrs['count'];
  return count !== undefined && /^[0-9]+$/.test(count) ? Number(count) : null;
}

/** TYPING-OUT: `<chatstate to><composing/></chatstate>` from a client; the server delivers it with `from`. */
export const chatState = (addr: { to?: string; from?: string }, state: ChatState = 'composing'): StanzaNode =>
  node(CHATSTATE_TAG, addr, [node(state)]);

/** The state of a `<chatstate>`, or null when it names none the profile defines. */
export function readChatState(n: StanzaNode): ChatState | null {
  const state = n.children[0]?.tag;
  return state === 'composing' || state === 'paused' ? state : null;
}

/** BLOCK-IQ: `<iq type="set" xmlns="blocklist" to="s.whatsapp.net"><item action jid/></iq>`. */
export const blocklistIq = (id: string, action: 'block' | 'unblock', jid: string): StanzaNode =>
  node('iq', { id, type: 'set', xmlns: BLOCKLIST_NS, to: GATEKEEPER_SERVER }, [node('item', { action, jid })]);

/** The action and jid of a blocklist IQ, or null when it is not one. */
export function readBlocklistIq(iq: StanzaNode): { action: 'block' | 'unblock'; jid: string } | null {
  if (iq.tag !== 'iq' || iq.attrs['xmlns'] !== BLOCKLIST_NS || iq.attrs['type'] !== 'set') return null;
  const item = child(iq, 'item');
  const action = item?.attrs['action'];
  const jid = item?.attrs['jid'];
  return (action === 'block' || action === 'unblock') && jid ? { action, jid } : null;
}

/** REACTION-OUT: a reaction to message `id` in the chat with `chat`; `fromMe` when the reactor sent that message. */
export const reactionContent = (
  chat: string,
  id: string,
  fromMe: boolean,
  emoji: string,
  senderTimestampMs = Date.now(),
): MessageContent => ({
  reactionMessage: { key: { remoteJid: chat, fromMe, id }, text: emoji, senderTimestampMs },
});

/** REPLY-OUT: a text quoting message `id`, sent by `participant`. */
export const replyContent = (text: string, id: string, participant: string): MessageContent => ({
  extendedTextMessage: { text, contextInfo: { stanzaId: id, participant } },
});

/**
 * The `edit` attribute the lineage puts on the `<message>` of a sender's revoke; a client reads the
 * revoke from the `Message`, not from it. @see Baileys 6.17.16 `lib/Socket/messages-send.js`, sendMessage.
 */
export const SENDER_REVOKE_EDIT = '7';

/** A revoke ("delete for everyone") of message `id`, which its sender sent in the chat with `chat`. */
export const revokeContent = (chat: string, id: string): MessageContent => ({
  protocolMessage: { key: { remoteJid: chat, fromMe: true, id }, type: interop.ProtocolMessage.Type.REVOKE },
});

/**
 * The id a `Message` revokes, or undefined when it is no revoke. The type must have been read as
 * REVOKE: proto2 gives an absent enum, or one of a value the generated enum lacks (an edit is 14),
 * its first value, which is REVOKE (MSG-UNKNOWN-KIND).
 */
export function revokedId(message: interop.Message): string | undefined {
  const protocol = message.protocolMessage;
  if (!protocol || !Object.hasOwn(protocol, 'type') || protocol.type !== interop.ProtocolMessage.Type.REVOKE)
    return undefined;
  return protocol.key?.id || undefined;
}
