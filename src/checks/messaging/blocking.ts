/** Blocking and unblocking a peer (docs/PROFILE.md §14.5). */
import { met, notMet, type Finding } from '../../core/model.js';
import { readBlocklistIq } from '../../protocol/messaging.js';
import type { StanzaNode } from '../../protocol/node.js';
import { defineCheck, type CheckContext } from '../check.js';
import { answerTo } from '../scenarios/exchange.js';
import { barrier, describeAll, lastSeq, sentBy } from '../observe.js';
import { pair, type Pair } from '../scenarios/conversation.js';

/** The user blocks or unblocks the gatekeeper user; the blocklist IQ the client sent for it, if any. */
async function changeBlock(ctx: CheckContext, p: Pair, action: 'block' | 'unblock') {
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step(`the user ${action}s the gatekeeper user`);
  await (action === 'block' ? p.provider.block(p.gatekeeperUser.jid) : p.provider.unblock(p.gatekeeperUser.jid));
  const sent = sentBy(p.provider.connection, afterSeq).map((s) => s.element);
  return { iq: blocklistIq(sent, action, p.gatekeeperUser.jid), sent };
}

/** The gatekeeper user sends a text; whether the provider user was shown it once the client answered. */
async function textShown(ctx: CheckContext, p: Pair, label: string): Promise<{ text: string; shown: boolean }> {
  const afterSeq = lastSeq(p.provider.connection);
  const text = `${label} ${ctx.rng.string(10)}`;
  ctx.step(`gatekeeper user sends ${label}`);
  const id = await p.gatekeeperUser.sendText(p.provider.login, text);
  await answerTo(ctx, p.provider.connection, id, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  return { text, shown: (await p.provider.inbox()).some((m) => m.text === text) };
}

/** BLOCK-IQ */
export const blockIq = defineCheck({ name: 'messaging/block/iq' }, async (ctx) => {
  const p = await pair(ctx);
  const { sent } = await changeBlock(ctx, p, 'block');
  return judgeBlockIq(sent, p.gatekeeperUser.jid);
});

/** BLOCK-IQ, on what the client sent when its user blocked `peer`. */
export function judgeBlockIq(sent: readonly StanzaNode[], peer: string): Finding {
  const expected = `<iq type="set" xmlns="blocklist"><item action="block" jid="${peer}"/></iq>`;
  return blocklistIq(sent, 'block', peer)
    ? met()
    : notMet(expected, `no blocklist IQ; the client sent ${describeAll(sent)}`);
}

const blocklistIq = (sent: readonly StanzaNode[], action: 'block' | 'unblock', peer: string) =>
  sent.map(readBlocklistIq).find((b) => b?.action === action && b.jid === peer);

/** BLOCK-HIDDEN */
export const blockedHidden = defineCheck({ name: 'messaging/block/hidden' }, async (ctx) => {
  const p = await pair(ctx);
  await changeBlock(ctx, p, 'block');
  const { text, shown } = await textShown(ctx, p, 'from a blocked user');
  return judgeBlockedHidden(text, shown);
});

/** BLOCK-HIDDEN, on whether a blocked peer's `text` was shown. */
export const judgeBlockedHidden = (text: string, shown: boolean): Finding =>
  shown ? notMet("a blocked user's message not shown", `the message was shown: "${text}"`) : met();

/** UNBLOCK: the unblock IQ, and the peer's messages shown again. */
export const unblockRestores = defineCheck({ name: 'messaging/block/unblock' }, async (ctx) => {
  const p = await pair(ctx);
  await changeBlock(ctx, p, 'block');
  const { iq, sent } = await changeBlock(ctx, p, 'unblock');
  if (!iq) return judgeUnblock(sent, p.gatekeeperUser.jid, false);
  return judgeUnblock(sent, p.gatekeeperUser.jid, (await textShown(ctx, p, 'after unblocking')).shown);
});

/** UNBLOCK, on what the client sent when its user unblocked `peer`, and whether the peer's next message was shown. */
export function judgeUnblock(sent: readonly StanzaNode[], peer: string, shownAfter: boolean): Finding {
  const expected = `<item action="unblock" jid="${peer}"/> in a blocklist IQ, then the peer's messages shown`;
  if (!blocklistIq(sent, 'unblock', peer))
    return notMet(expected, `no blocklist IQ with action="unblock"; the client sent ${describeAll(sent)}`);
  return shownAfter ? met() : notMet(expected, 'the message after unblocking was not shown');
}
