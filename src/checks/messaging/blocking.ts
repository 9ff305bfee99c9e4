/** Blocking and unblocking a peer (docs/PROFILE.md §14.5). */
import { driverStatusOf, PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { StanzaNode } from '../../protocol/node.js';
import { choiceParam, defineCheck, paramsOf, type CheckContext } from '../check.js';
import { answerTo, gatekeeperReacts } from '../scenarios/exchange.js';
import { judgeMessageAck } from '../scenarios/acks.js';
import { barrier, describeAll, lastSeq, sentBy, show } from '../observe.js';
import { pair, receiveOne, sendOneWithId, type Pair, strangerJid } from '../scenarios/conversation.js';
import { deliverGroup, group, shownInGroup } from '../scenarios/groups.js';
import { blocklistIq, changeBlock, judgeBlockedHidden } from '../scenarios/blocking.js';
import { reactionOn } from './content.js';

/** The gatekeeper user sends a text; whether the provider user was shown it once the client answered. */
async function textShown(
  ctx: CheckContext,
  p: Pair,
  label: string,
): Promise<{ id: string; text: string; shown: boolean }> {
  const afterSeq = lastSeq(p.provider.connection);
  const text = `${label} ${ctx.rng.string(10)}`;
  ctx.step(`gatekeeper user sends ${label}`);
  const id = await p.gatekeeperUser.sendText(p.provider.login, text);
  await answerTo(ctx, p.provider.connection, id, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  return { id, text, shown: (await p.provider.inbox()).some((m) => m.text === text) };
}

/**
 * BLOCK-IQ; with `params.refused`, the user blocks a number the gatekeeper does not know, whose
 * blocklist IQ it answers with item-not-found: the block failed, and the driver must not say it
 * worked (IQ-ERROR [2]; DRIVER-API: a non-2xx answer, not `{}`).
 */
export const blockIq = defineCheck(
  { name: 'messaging/block/iq', params: paramsOf({ refused: { type: 'boolean' } }) },
  async (ctx) => {
    if (ctx.params['refused'] === true) return blockRefused(ctx);
    const p = await pair(ctx);
    const { sent } = await changeBlock(ctx, p, 'block');
    return judgeBlockIq(sent, p.gatekeeperUser.jid);
  },
);

async function blockRefused(ctx: CheckContext): Promise<Finding> {
  const provider = await ctx.testbed.providerUser();
  const { connection } = provider;
  const stranger = strangerJid(ctx.rng);
  ctx.testbed.expectRefusal(
    `the blocklist IQ for ${stranger}, a user the gatekeeper does not know, answered with item-not-found`,
    (r) => r.element?.tag === 'iq' && r.condition === 'item-not-found',
  );
  const afterSeq = lastSeq(connection);
  ctx.step(`the user blocks ${stranger}, whom the gatekeeper does not know`);
  const answer = await provider.block(stranger).then(
    (body) => ({ body }),
    (error: unknown) => ({ error }),
  );
  const sent = sentBy(connection, afterSeq).map((s) => s.element);
  const iq = judgeBlockIq(sent, stranger);
  if (iq.verdict !== 'met') return iq;
  if (!('error' in answer))
    return notMet(
      `the block reported failed (a non-2xx driver answer) after the gatekeeper answered its blocklist IQ with <iq type="error">`,
      `the driver answered ${JSON.stringify(answer.body)}: the block of ${stranger} reported done though the gatekeeper refused it`,
    );
  // A call that got no answer at all says nothing of the client.
  if (driverStatusOf(answer.error) === undefined) throw answer.error;
  return met(`the block reported failed: HTTP ${driverStatusOf(answer.error)}`);
}

/** BLOCK-IQ, on what the client sent when its user blocked `peer`. */
export function judgeBlockIq(sent: readonly StanzaNode[], peer: string): Finding {
  const expected = `<iq type="set" xmlns="blocklist"><item action="block" jid="${peer}"/></iq>`;
  return blocklistIq(sent, 'block', peer)
    ? met()
    : notMet(expected, `no blocklist IQ; the client sent ${describeAll(sent)}`);
}

/** The gatekeeper user's reaction to message `id` of the user's; whether it was shown on it once the client answered. */
async function reactionShown(
  ctx: CheckContext,
  p: Pair,
  id: string,
): Promise<{ id: string; text: string; shown: boolean }> {
  const emoji = '👍';
  const reaction = await gatekeeperReacts(
    ctx,
    p,
    { id, fromMe: false, emoji },
    "the blocked gatekeeper user reacts to the user's message",
  );
  const shown = reactionOn(await p.provider.inbox(), id)?.reaction?.emoji === emoji;
  return { id: reaction, text: `the reaction ${emoji} on message ${id}`, shown };
}

/** What the blocked gatekeeper user sends (`params.sends`): a text, or a reaction to the user's own message. */
const BLOCKED_SENDS = ['text', 'reaction'] as const;

/**
 * BLOCK-HIDDEN: once the user blocked the gatekeeper user, that user's message is not shown nor
 * receipted, and the user reading an earlier message of theirs or typing in the chat tells them
 * nothing: no read receipt, no `<chatstate>`. With `params.sends` `reaction`, the blocked user's
 * message is a reaction to a message the user sent before the block, which is not shown on it.
 * With `params.reconnect`, the provider user connects again after the block: the block is the
 * user's, not its connection's.
 */
export const blockedHidden = defineCheck(
  {
    name: 'messaging/block/hidden',
    params: paramsOf({ sends: { enum: [...BLOCKED_SENDS] }, reconnect: { type: 'boolean' } }),
  },
  async (ctx) => {
    const p = await pair(ctx);
    const peer = p.gatekeeperUser.jid;
    const reacts = choiceParam(ctx, 'sends', BLOCKED_SENDS, 'text') === 'reaction';
    const own = reacts ? await sendOneWithId(p, ctx, "the user's message before the block") : undefined;
    const before = await receiveOne(p, ctx, 'a message before the block');
    await answerTo(ctx, p.provider.connection, before.id, before.afterSeq);
    const blockedOn = p.provider.connection;
    const blockedAt = lastSeq(blockedOn);
    await changeBlock(ctx, p, 'block');
    if (ctx.params['reconnect'] === true) await p.provider.reconnect();
    const { id, text, shown } = own
      ? await reactionShown(ctx, p, own.id)
      : await textShown(ctx, p, 'from a blocked user');
    ctx.step('the user reads the message from before the block');
    await p.provider.markRead(peer, before.id);
    ctx.step('the user types in the chat with the blocked user');
    await p.provider.typing(peer);
    await barrier(p.provider.connection, ctx.signal);
    // From the block on: the rest of its connection, and the whole of a connection after it.
    const after = p.provider.connection === blockedOn ? [] : sentBy(p.provider.connection);
    const sent = [...sentBy(blockedOn, blockedAt), ...after].map((s) => s.element);
    return judgeBlockedHidden({ peer, id, text, shown, sent });
  },
);

/**
 * BLOCK-HIDDEN in a group: the user blocks the first member, who then sends the group a text; the
 * peer is that member, not the group, so the text is neither shown nor receipted. The second
 * member's text is shown, so that a client which shows no group message cannot pass.
 */
export const blockedInGroup = defineCheck({ name: 'messaging/block/group' }, async (ctx) => {
  const g = await group(ctx);
  const [blocked, other] = g.members;
  ctx.step(`the user blocks ${blocked.jid}`);
  await g.provider.block(blocked.jid);
  const text = `from a blocked member ${ctx.rng.string(8)}`;
  const { receipt } = await deliverGroup(ctx, g, blocked, await blocked.encryptGroupText(g.jid, text), 'its text');
  const control = `from another member ${ctx.rng.string(8)}`;
  await deliverGroup(ctx, g, other, await other.encryptGroupText(g.jid, control), "the other member's text");
  await barrier(g.provider.connection, ctx.signal);
  const inbox = await g.provider.inbox();
  if ((await shownInGroup(g, other.jid, control, inbox)) === 0)
    throw new PreconditionError("the other member's group text was not shown either; GROUP-IN judges that");
  const shown = (await shownInGroup(g, blocked.jid, text, inbox)) > 0;
  return judgeBlockedInGroup(blocked.jid, text, shown, receipt);
});

/** BLOCK-HIDDEN, on the blocked `member`'s group `text`: whether it was shown, and the delivery receipt for it, if any. */
function judgeBlockedInGroup(member: string, text: string, shown: boolean, receipt: StanzaNode | undefined): Finding {
  const expected = `the group text of ${member}, whom the user blocked, neither shown nor receipted`;
  if (shown) return notMet(expected, `the blocked member's group text was shown: "${text}"`);
  return receipt ? notMet(expected, `a delivery receipt for the blocked member's group text: ${show(receipt)}`) : met();
}

/**
 * ACK-MESSAGE, in the block scenario: a blocked user's message is still acked. BLOCK-HIDDEN forbids
 * its delivery receipt, a SHOULD that the lineage breaks; the ack is a MUST whatever the block, so
 * the receipt that may stand for it passes here and is BLOCK-HIDDEN's to judge.
 */
export const blockedAcked = defineCheck({ name: 'messaging/block/acked' }, async (ctx) => {
  const p = await pair(ctx);
  await changeBlock(ctx, p, 'block');
  const afterSeq = lastSeq(p.provider.connection);
  const { id } = await textShown(ctx, p, 'from a blocked user');
  return judgeMessageAck(
    sentBy(p.provider.connection, afterSeq).map((s) => s.element),
    id,
    p.gatekeeperUser.jid,
    true,
    p.provider.connection.closed,
  );
});

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
