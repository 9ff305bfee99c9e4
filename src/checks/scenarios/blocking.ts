/**
 * Blocking, shared by the suites that judge what a client does for a peer its user blocked
 * (BLOCK-IQ, BLOCK-HIDDEN): a text in the messaging suite, a file in the media suite.
 */
import { met, notMet, type Finding } from '../../core/model.js';
import { CHATSTATE_TAG, readBlocklistIq } from '../../protocol/messaging.js';
import type { StanzaNode } from '../../protocol/node.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import type { CheckContext } from '../check.js';
import { lastSeq, sentBy, show } from '../observe.js';
import type { Pair } from './conversation.js';

/** The user blocks or unblocks the gatekeeper user; the blocklist IQ the client sent for it, if any. */
export async function changeBlock(ctx: CheckContext, p: Pair, action: 'block' | 'unblock') {
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step(`the user ${action}s the gatekeeper user`);
  await (action === 'block' ? p.provider.block(p.gatekeeperUser.jid) : p.provider.unblock(p.gatekeeperUser.jid));
  const sent = sentBy(p.provider.connection, afterSeq).map((s) => s.element);
  return { iq: blocklistIq(sent, action, p.gatekeeperUser.jid), sent };
}

export const blocklistIq = (sent: readonly StanzaNode[], action: 'block' | 'unblock', peer: string) =>
  sent.map(readBlocklistIq).find((b) => b?.action === action && b.jid === peer);

/** What a client did about a peer its user blocked: the peer's message after the block, and everything the client sent from the block on. */
export interface AfterBlock {
  readonly peer: string;
  /** The blocked peer's message: its stanza id and text, and whether the user was shown it. */
  readonly id: string;
  readonly text: string;
  readonly shown: boolean;
  readonly sent: readonly StanzaNode[];
}

/** BLOCK-HIDDEN, on what the client showed and sent once its user blocked `peer`. */
export function judgeBlockedHidden(o: AfterBlock): Finding {
  const expected = `a blocked user's message not shown nor receipted, and no read receipt or <chatstate> to ${o.peer}`;
  if (o.shown) return notMet(expected, `the message was shown: "${o.text}"`);
  const toPeer = o.sent.filter((n) => n.attrs['to'] === o.peer);
  const delivery = toPeer.find((n) => isDeliveryReceipt(n) && n.attrs['id'] === o.id);
  if (delivery) return notMet(expected, `a delivery receipt for the blocked user's message: ${show(delivery)}`);
  const read = toPeer.find((n) => n.tag === 'receipt' && n.attrs['type'] === 'read');
  if (read) return notMet(expected, `a read receipt to the blocked user: ${show(read)}`);
  const typing = toPeer.find((n) => n.tag === CHATSTATE_TAG);
  if (typing) return notMet(expected, `a <chatstate> to the blocked user: ${show(typing)}`);
  return met();
}
