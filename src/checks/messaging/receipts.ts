/** Delivery and read receipts, both ways, and their acks (docs/PROFILE.md §14.1). */
import { met, notMet, type Finding } from '../../core/model.js';
import type { ShownReceipt } from '../../protocol/driver-api.js';
import type { StanzaNode } from '../../protocol/node.js';
import { isDeliveryReceipt, receipt, receiptIds } from '../../protocol/stanzas.js';
import { retryReceipt } from '../../protocol/messaging.js';
import { judgeReceiptAck } from '../scenarios/acks.js';
import { choiceParam, defineCheck, numberParam, paramsOf, type CheckContext } from '../check.js';
import { answerTo, gatekeeperReacts } from '../scenarios/exchange.js';
import { barrier, describeAll, lastSeq, sends, sentBy, show } from '../observe.js';
import { judgeTime } from '../time.js';
import { askResend, pair, receiveOne, sendOneWithId, sendReceiptAcked, type Pair } from '../scenarios/conversation.js';
import { unixSeconds, type Clock } from '../../core/clock.js';
import type { GatekeeperUserOptions } from '../../gatekeeper/types.js';

const MESSAGES = 3;

/** A message from the gatekeeper user, answered by the provider's client: every answer to it is on the wire. */
async function received(ctx: CheckContext, p: Pair, label?: string): Promise<{ id: string; afterSeq: number }> {
  const { id, afterSeq } = await receiveOne(p, ctx, label);
  await answerTo(ctx, p.provider.connection, id, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  return { id, afterSeq };
}

/** The receipts the provider sent for `id`: of `type`, or delivery receipts (RECEIPT-DELIVERY) when none is given. */
const receiptsSent = (p: Pair, afterSeq: number, id: string, type?: 'read') =>
  sentBy(p.provider.connection, afterSeq).filter(
    (s) =>
      s.element.attrs['id'] === id &&
      (type === undefined
        ? isDeliveryReceipt(s.element)
        : s.element.tag === 'receipt' && s.element.attrs['type'] === type),
  );

/** What the last of the messages is (`params.last`): a text, or the peer's reaction to its first. */
const LAST = ['text', 'reaction'] as const;

/**
 * RECEIPT-EACH: several messages in a row, a delivery receipt for each. With `params.last`
 * `reaction`, the last is the peer's reaction to its first message, whose receipt names the
 * reaction's own stanza, not the message its key points at (which has its receipt already).
 */
export const deliveryEach = defineCheck(
  { name: 'messaging/receipt/delivery-each', params: paramsOf({ last: { enum: [...LAST] } }) },
  async (ctx) => {
    const p = await pair(ctx);
    const reaction = choiceParam(ctx, 'last', LAST, 'text') === 'reaction';
    const afterSeq = lastSeq(p.provider.connection);
    const ids: string[] = [];
    for (let i = 1; i <= (reaction ? MESSAGES - 1 : MESSAGES); i++)
      ids.push((await received(ctx, p, `message ${i}`)).id);
    if (reaction) ids.push(await reactTo(ctx, p, ids[0] ?? ''));
    const missing = ids.filter((id) => receiptsSent(p, afterSeq, id).length === 0);
    return missing.length === 0
      ? met()
      : notMet(
          `a delivery receipt for each of ${MESSAGES} messages`,
          `no delivery receipt for ${missing.length} of them (${missing.join(', ')})`,
        );
  },
);

/** The gatekeeper user reacts to its own message `id`; the reaction's stanza id, once the client answered it. */
const reactTo = (ctx: CheckContext, p: Pair, id: string): Promise<string> =>
  gatekeeperReacts(ctx, p, { id, fromMe: true, emoji: '👍' }, 'gatekeeper user reacts to its first message');

/**
 * READ-ON-MARK: the user reads a message; a read receipt names it. With `params.messages` above 1,
 * the peer sends that many and the user reads the first, which a receipt for the chat's latest
 * message does not name.
 */
export const readOnMark = defineCheck(
  { name: 'messaging/receipt/read-on-mark', params: paramsOf({ messages: { type: 'integer', minimum: 1 } }) },
  async (ctx) => {
    const p = await pair(ctx);
    const count = numberParam(ctx, 'messages', 1);
    const { id } = await received(ctx, p, count > 1 ? 'message 1' : undefined);
    for (let i = 2; i <= count; i++) await received(ctx, p, `message ${i}`);
    return readAndJudge(ctx, p, id);
  },
);

/** The user reads message `id` of the gatekeeper user; READ-ON-MARK on what its client sent. */
async function readAndJudge(ctx: CheckContext, p: Pair, id: string): Promise<Finding> {
  const before = lastSeq(p.provider.connection);
  ctx.step('the user reads the message');
  await p.provider.markRead(p.gatekeeperUser.jid, id);
  // The client writes the receipt before the driver answers; a ping after that answer comes behind it.
  await barrier(p.provider.connection, ctx.signal);
  return judgeReadReceipt(
    sentBy(p.provider.connection, before).map((s) => s.element),
    id,
    p.gatekeeperUser.jid,
    ctx.clock,
  );
}

/** READ-ON-MARK, on what the client sent after its user read message `id` from `peer`. */
export function judgeReadReceipt(sent: readonly StanzaNode[], id: string, peer: string, clock: Clock): Finding {
  const expected = `<receipt type="read" id="${id}" to="${peer}" t/>`;
  const read = sent.find((n) => n.tag === 'receipt' && n.attrs['id'] === id && n.attrs['type'] === 'read');
  if (!read) {
    const other = sent.find((n) => n.tag === 'receipt' && n.attrs['type'] === 'read');
    return notMet(
      expected,
      other
        ? `a read receipt for another message, id="${other.attrs['id'] ?? ''}", not the one the user read`
        : `no read receipt after the user read the message; the client sent ${describeAll(sent)}`,
    );
  }
  if (read.attrs['to'] !== peer) return notMet(expected, `a read receipt to="${read.attrs['to'] ?? ''}"`);
  return judgeTime(read.attrs['t'], clock, 'the read receipt');
}

/**
 * What the user did in the chat about the peer's message before the one judged (`params.earlier`):
 * nothing came before; it was read; it was left unread, and the user reads the later one.
 */
const EARLIER = ['none', 'read', 'unread'] as const;

/**
 * READ-ONLY-MARKED: a message delivered and not yet read gets no read receipt; with
 * `params.earlier` `read`, not even in a chat whose earlier message the user read, which a client
 * that keeps the chat open as read would receipt.
 */
export const readOnlyWhenMarked = defineCheck(
  { name: 'messaging/receipt/read-only-when-marked', params: paramsOf({ earlier: { enum: [...EARLIER] } }) },
  async (ctx) => {
    const p = await pair(ctx);
    const earlier = choiceParam(ctx, 'earlier', EARLIER, 'none');
    if (earlier === 'unread') return readLaterOnly(ctx, p);
    if (earlier === 'read') {
      const first = await received(ctx, p, 'message 1');
      ctx.step('the user reads message 1');
      await p.provider.markRead(p.gatekeeperUser.jid, first.id);
      await barrier(p.provider.connection, ctx.signal);
    }
    const { id, afterSeq } = await received(ctx, p, 'the message not read');
    const read = receiptsSent(p, afterSeq, id, 'read');
    return read.length === 0
      ? met('no read receipt before the answer to a ping')
      : notMet('no read receipt until the user reads the message', 'a read receipt for it before the user read it');
  },
);

/**
 * READ-ONLY-MARKED, a chat read up to a point: of two messages, the user reads the later one; no
 * read receipt, in its id or its list, names the earlier, which a client that marks a chat read up
 * to the message read would receipt too.
 */
async function readLaterOnly(ctx: CheckContext, p: Pair): Promise<Finding> {
  const first = await received(ctx, p, 'message 1, which the user leaves unread');
  const second = await received(ctx, p, 'message 2');
  ctx.step('the user reads message 2');
  await p.provider.markRead(p.gatekeeperUser.jid, second.id);
  await barrier(p.provider.connection, ctx.signal);
  const naming = sentBy(p.provider.connection, first.afterSeq)
    .map((s) => s.element)
    .filter((n) => n.tag === 'receipt' && n.attrs['type'] === 'read' && receiptIds(n).includes(first.id));
  return naming.length === 0
    ? met('a read receipt for message 2 alone')
    : notMet(
        'no read receipt for message 1, which the user did not read, when the user reads message 2',
        `a read receipt naming message 1: ${show(naming[0] as StanzaNode)}`,
      );
}

/**
 * A message from the provider user, with the gatekeeper user's delivery receipt for it delivered to
 * the client; then `later` more, each delivered too, whose ids come back in `later`.
 */
async function sentAndDelivered(
  ctx: CheckContext,
  later = 0,
  options: GatekeeperUserOptions = {},
): Promise<{ p: Pair; id: string; later: string[] }> {
  const p = await pair(ctx, options);
  const id = await sendReceiptAcked(ctx, p, 'message');
  const rest: string[] = [];
  for (let i = 1; i <= later; i++) rest.push(await sendReceiptAcked(ctx, p, `later message ${i}`));
  return { p, id, later: rest };
}

async function shown(ctx: CheckContext, p: Pair, id: string, type: 'delivery' | 'read'): Promise<Finding> {
  const { receipts } = await p.provider.indicators();
  const expected = `the ${type} receipt of ${p.gatekeeperUser.jid} shown on message ${id}`;
  if (receipts.some((r) => r.id === id && r.type === type && r.peer === p.gatekeeperUser.jid)) return met();
  const onIt = receipts.filter((r) => r.id === id).map((r) => r.type);
  return notMet(expected, `not shown: the message shows ${onIt.length === 0 ? 'no receipt' : onIt.join(', ')}`);
}

/** The `type` a delivery receipt may carry (RECEIPT-DELIVERY): none, or `inactive`. */
const RECEIPT_TYPES = ['none', 'inactive'] as const;

/**
 * RECEIPT-SHOWN: a delivery receipt from the peer is shown on the message. With
 * `params.receiptType` "inactive" the peer writes it so, as WhatsApp's clients do while not marked
 * available: a delivery receipt all the same (RECEIPT-DELIVERY). With `params.retried` the peer
 * could not decrypt the message and first answers it with a retry receipt alone
 * (RECEIPT-AFTER-DECRYPT), which must not show as delivered; its delivery receipt, once the re-sent
 * copy decrypted, then must.
 */
export const deliveryShown = defineCheck(
  {
    name: 'messaging/receipt/delivery-shown',
    params: paramsOf({ receiptType: { enum: RECEIPT_TYPES }, retried: { type: 'boolean' } }),
  },
  async (ctx) => {
    const receiptType = choiceParam(ctx, 'receiptType', RECEIPT_TYPES, 'none');
    if (ctx.params['retried'] === true) return retriedThenDelivered(ctx, receiptType);
    const { p, id } = await sentAndDelivered(ctx, 0, receiptType === 'none' ? {} : { receiptType });
    await barrier(p.provider.connection, ctx.signal);
    return shown(ctx, p, id, 'delivery');
  },
);

/**
 * RECEIPT-SHOWN, for a message whose recipient first sends a retry receipt for it alone, then,
 * once the re-sent copy decrypted, its delivery receipt written with `receiptType`.
 */
async function retriedThenDelivered(ctx: CheckContext, receiptType: (typeof RECEIPT_TYPES)[number]): Promise<Finding> {
  const p = await pair(ctx, { deliveryReceipts: false });
  const { id } = await sendOneWithId(p, ctx);
  const from = p.gatekeeperUser.jid;
  askResend(ctx, p, id, 1);
  await barrier(p.provider.connection, ctx.signal);
  const early = (await p.provider.indicators()).receipts.filter((r) => r.id === id && r.type === 'delivery');
  if (early.length > 0)
    return notMet(
      `no delivery receipt shown on message ${id} for the retry receipt of ${from}, who could not decrypt it`,
      `the retry receipt shown as delivered: ${early.map((r) => `delivery from ${r.peer}`).join(', ')}`,
    );
  ctx.step('the re-sent copy decrypted: the gatekeeper user sends its delivery receipt');
  const t = String(unixSeconds(ctx.clock));
  ctx.testbed.gatekeeper.deliver(
    p.provider.login,
    receipt(receiptType === 'none' ? { id, from, t } : { id, from, t, type: receiptType }),
  );
  await barrier(p.provider.connection, ctx.signal);
  return shown(ctx, p, id, 'delivery');
}

/**
 * Whether the peer sent a delivery receipt before its read receipt (`params.delivery`): it did, or
 * it sent none, and the read receipt is the first the client gets for the message.
 */
const DELIVERY = ['receipted', 'none'] as const;

/** A message from the provider user to a gatekeeper user who sends no delivery receipt for it. */
async function sentUnreceipted(ctx: CheckContext): Promise<{ p: Pair; id: string; later: string[] }> {
  const p = await pair(ctx, { deliveryReceipts: false });
  const { id } = await sendOneWithId(p, ctx);
  return { p, id, later: [] };
}

/**
 * RECEIPT-SHOWN: a read receipt from the peer is shown on the message, as read: the message shows
 * no more delivery receipts after it than before it. With `params.messages` above 1, the user sent
 * that many and the peer reads the first: the read shows on it, and on none of the later ones.
 * With `params.delivery` "none" the read receipt comes with no delivery receipt before it, and is
 * shown as read all the same.
 */
export const readShown = defineCheck(
  {
    name: 'messaging/receipt/read-shown',
    params: paramsOf({ messages: { type: 'integer', minimum: 1 }, delivery: { enum: [...DELIVERY] } }),
  },
  async (ctx) => {
    const { p, id, later } =
      choiceParam(ctx, 'delivery', DELIVERY, 'receipted') === 'receipted'
        ? await sentAndDelivered(ctx, numberParam(ctx, 'messages', 1) - 1)
        : await sentUnreceipted(ctx);
    await barrier(p.provider.connection, ctx.signal);
    const { before, after } = await aroundRead(ctx, p, id, 'the gatekeeper user reads the first message');
    return judgeReadShown(before, after, id, p.gatekeeperUser.jid, later);
  },
);

/** The receipts the provider shows before and after the recipient's read receipt for message `id` reached it. */
async function aroundRead(
  ctx: CheckContext,
  p: Pair,
  id: string,
  step: string,
): Promise<{ before: readonly ShownReceipt[]; after: readonly ShownReceipt[] }> {
  const before = (await p.provider.indicators()).receipts;
  ctx.step(step);
  ctx.testbed.gatekeeper.deliver(
    p.provider.login,
    receipt({ id, from: p.gatekeeperUser.jid, t: String(unixSeconds(ctx.clock)), type: 'read' }),
  );
  await barrier(p.provider.connection, ctx.signal);
  return { before, after: (await p.provider.indicators()).receipts };
}

/**
 * RECEIPT-SHOWN, on the receipts shown before and after `peer`'s read receipt for message `id`
 * reached the client; `later`: the user's messages after it, which the receipt does not name.
 */
function judgeReadShown(
  before: readonly ShownReceipt[],
  after: readonly ShownReceipt[],
  id: string,
  peer: string,
  later: readonly string[] = [],
): Finding {
  const expected = `the read receipt of ${peer} shown on message ${id}, as read${later.length > 0 ? ', and on no later message' : ''}`;
  if (!after.some((r) => r.id === id && r.type === 'read' && r.peer === peer)) {
    const onIt = after.filter((r) => r.id === id).map((r) => r.type);
    return notMet(expected, `not shown: the message shows ${onIt.length === 0 ? 'no receipt' : onIt.join(', ')}`);
  }
  const misplaced = after.find((r) => r.type === 'read' && later.includes(r.id));
  if (misplaced) return notMet(expected, `a read receipt shown on message ${misplaced.id}, which it does not name`);
  const delivered = (rs: readonly ShownReceipt[]) => rs.filter((r) => r.id === id && r.type === 'delivery').length;
  return delivered(after) > delivered(before)
    ? notMet(expected, 'the read receipt also shown as a delivery receipt')
    : met();
}

/**
 * RECEIPT-SHOWN's second clause: a receipt from anyone but the recipient names no message of this
 * chat and is ignored. A second gatekeeper user, who never got the message, sends a delivery and a
 * read receipt for its id; neither may show on it. Then the recipient reads it, and that read
 * receipt must show, so that a client which shows no receipt at all cannot pass.
 */
export const otherSenderIgnored = defineCheck({ name: 'messaging/receipt/other-sender-ignored' }, async (ctx) => {
  const { p, id } = await sentAndDelivered(ctx);
  const stranger = await ctx.testbed.gatekeeperUser();
  ctx.step('another gatekeeper user sends receipts for the message');
  const t = String(unixSeconds(ctx.clock));
  ctx.testbed.gatekeeper.deliver(p.provider.login, receipt({ id, from: stranger.jid, t }));
  ctx.testbed.gatekeeper.deliver(p.provider.login, receipt({ id, from: stranger.jid, t, type: 'read' }));
  await barrier(p.provider.connection, ctx.signal);
  const { before, after } = await aroundRead(ctx, p, id, 'the recipient reads the message');
  return judgeOtherSenderIgnored(before, after, id, p.gatekeeperUser.jid, stranger.jid);
});

/**
 * RECEIPT-SHOWN, on the receipts the user was shown after a stranger's receipts for message `id`
 * (`before`) and after the recipient's read receipt (`after`).
 */
export function judgeOtherSenderIgnored(
  before: readonly ShownReceipt[],
  after: readonly ShownReceipt[],
  id: string,
  recipient: string,
  stranger: string,
): Finding {
  const expected = `no receipt of ${stranger}, who did not get message ${id}, shown on it, and the read receipt of its recipient ${recipient} shown`;
  const misread = before.filter((r) => r.id === id && (r.peer !== recipient || r.type === 'read'));
  if (misread.length > 0)
    return notMet(
      expected,
      `a receipt of someone else shown on the message: ${misread.map((r) => `${r.type} from ${r.peer}`).join(', ')}`,
    );
  return after.some((r) => r.id === id && r.type === 'read' && r.peer === recipient)
    ? met()
    : notMet(expected, "the recipient's own read receipt not shown after it");
}

/** The receipts with a `type` that the gatekeeper delivers to a client; the delivery receipt, without one, is stanza.ack.receipt's. */
const TYPED_RECEIPTS = ['read', 'retry'] as const;

/**
 * ACK-RECEIPT: a receipt with a `type` is acked with it; `params.type` says which receipt the
 * gatekeeper user sends for the provider user's message: a read receipt, or a retry receipt.
 */
export const ackTypedReceipt = defineCheck(
  { name: 'messaging/ack', params: paramsOf({ type: { enum: [...TYPED_RECEIPTS] } }, ['type']) },
  async (ctx) => {
    const type = choiceParam(ctx, 'type', TYPED_RECEIPTS);
    const { p, id } = await sentAndDelivered(ctx);
    const afterSeq = lastSeq(p.provider.connection);
    ctx.step(`the gatekeeper user sends a ${type} receipt for the message`);
    const from = p.gatekeeperUser.jid;
    const t = String(unixSeconds(ctx.clock));
    ctx.testbed.gatekeeper.deliver(
      p.provider.login,
      type === 'read' ? receipt({ id, from, t, type }) : retryReceipt({ id, from, t, count: 1, registrationId: 1 }),
    );
    ctx.step(`wait for the ack of the ${type} receipt`);
    await ctx.testbed.frameFrom(p.provider.connection, sends('ack', { class: 'receipt', id }), { afterSeq });
    return judgeReceiptAck(
      sentBy(p.provider.connection, afterSeq).map((s) => s.element),
      id,
      from,
      {
        type,
        closed: p.provider.connection.closed,
      },
    );
  },
);
