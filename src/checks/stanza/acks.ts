/** Acknowledgements, receipts and pings from the provider's client (docs/PROFILE.md §1, §6). */
import type { Clock } from '../../core/clock.js';
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { StanzaNode } from '../../protocol/node.js';
import { choiceParam, defineCheck, paramsOf, ANSWER_MS, QUIET_MS, type CheckContext } from '../check.js';
import type { ClientConnection, ConnectionClosed } from '../../gatekeeper/types.js';
import { barrier, describeAll, lastSeq, noneBefore, sends, sentBy, show, type Sent } from '../observe.js';
import { judgeMessageAck, judgeNotificationAck, judgeReceiptAck } from '../scenarios/acks.js';
import { judgeTime } from '../time.js';
import { isDeliveryReceipt, receipt, serverNotification, UNHANDLED_NOTIFICATION_TYPE } from '../../protocol/stanzas.js';
import { unixSeconds } from '../../core/clock.js';
import { GATEKEEPER_SERVER, PING_NS } from '../../protocol/constants.js';
import {
  deliverUndecryptable,
  pair,
  receiveOne,
  sendOneWithId,
  sendReceiptAcked,
  type Pair,
} from '../scenarios/conversation.js';
import { group } from '../scenarios/groups.js';

/**
 * ACK-MESSAGE: a message the client decrypted is acked, or answered by its delivery receipt alone,
 * which whatsmeow sends in place of the ack; one it could not decrypt is acked by every client.
 */
export const ackMessage = defineCheck({ name: 'stanza/ack/message' }, async (ctx) => {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  ctx.step('wait for the ack or the delivery receipt');
  const acked = sends('ack', { class: 'message', id });
  await ctx.testbed.frameFrom(
    p.provider.connection,
    (f) => acked(f) || sends('receipt', { id }, isDeliveryReceipt)(f),
    {
      afterSeq,
    },
  );
  const decrypted = judgeMessageAck(
    sentBy(p.provider.connection, afterSeq).map((s) => s.element),
    id,
    p.gatekeeperUser.jid,
    true,
    p.provider.connection.closed,
  );
  if (decrypted.verdict !== 'met') return decrypted;
  const bad = deliverUndecryptable(p, ctx);
  ctx.step('wait for the ack of a message that cannot be decrypted');
  await ctx.testbed.frameFrom(p.provider.connection, sends('ack', { class: 'message', id: bad.id }), {
    afterSeq: bad.afterSeq,
  });
  return judgeMessageAck(
    sentBy(p.provider.connection, bad.afterSeq).map((s) => s.element),
    bad.id,
    p.gatekeeperUser.jid,
    false,
    p.provider.connection.closed,
  );
});

/**
 * What the receipt names (`params.message`): the provider user's message, or one the client never
 * sent, as a receipt for its group message (which it need not keep) or for one past its cache names.
 */
const NAMED = ['sent', 'unknown'] as const;

/**
 * ACK-RECEIPT, on the ack of the gatekeeper user's delivery receipt, which has no `type`: acked, not
 * refused, whether or not the client knows the message it names.
 */
export const ackReceipt = defineCheck(
  { name: 'stanza/ack/receipt', params: paramsOf({ message: { enum: [...NAMED] } }) },
  async (ctx) => {
    const p = await pair(ctx);
    const { id, afterSeq } =
      choiceParam(ctx, 'message', NAMED, 'sent') === 'sent' ? await sendOneWithId(p, ctx) : unknownReceipt(ctx, p);
    return judgeAckOfReceipt(ctx, p, id, afterSeq);
  },
);

/** The gatekeeper user's delivery receipt for a message id the client never sent: the id, and where its answers start. */
function unknownReceipt(ctx: CheckContext, p: Pair): { id: string; afterSeq: number } {
  const id = ctx.rng.string(20, 'ABCDEF0123456789');
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step(`the gatekeeper user sends a delivery receipt for ${id}, a message the client never sent`);
  ctx.testbed.gatekeeper.deliver(
    p.provider.login,
    receipt({ id, from: p.gatekeeperUser.jid, t: String(unixSeconds(ctx.clock)) }),
  );
  return { id, afterSeq };
}

/** ACK-RECEIPT, once the gatekeeper user's delivery receipt for `id` is on its way to the client. */
async function judgeAckOfReceipt(ctx: CheckContext, p: Pair, id: string, afterSeq: number): Promise<Finding> {
  ctx.step('wait for the receipt to reach the client');
  const toClient = await p.provider.connection.waitForFrame(
    (f) => f.node?.tag === 'receipt' && f.node.attrs['id'] === id,
    { signal: ctx.signal, timeoutMs: ANSWER_MS, afterSeq, direction: 'gatekeeper-to-client' },
  );
  if (!toClient) throw new PreconditionError("the gatekeeper user's delivery receipt never reached the client");
  ctx.step('wait for the ack of the receipt');
  await ctx.testbed.frameFrom(p.provider.connection, sends('ack', { class: 'receipt', id }), {
    afterSeq: toClient.seq,
  });
  return judgeReceiptAck(
    sentBy(p.provider.connection, toClient.seq).map((s) => s.element),
    id,
    p.gatekeeperUser.jid,
    {
      closed: p.provider.connection.closed,
    },
  );
}

/** Who sends the unhandled notification (`params.from`): the server itself, or a peer, as a user's own notifications come. */
const NOTIFIERS = ['server', 'peer'] as const;

/**
 * ACK-NOTIFICATION: the server sends a notification of a type the client cannot handle, as it may
 * any day WhatsApp adds one; the client acks it as it acks every notification, `to` its `from`,
 * which is a peer's jid for one about a user (`params.from`).
 */
export const ackNotification = defineCheck(
  { name: 'stanza/ack/notification', params: paramsOf({ from: { enum: [...NOTIFIERS] } }) },
  async (ctx) => {
    const notifier = choiceParam(ctx, 'from', NOTIFIERS, 'server');
    const { connection } = await ctx.testbed.providerUser();
    const from = notifier === 'peer' ? (await ctx.testbed.gatekeeperUser()).jid : GATEKEEPER_SERVER;
    const notification = serverNotification(
      ctx.rng.string(20),
      UNHANDLED_NOTIFICATION_TYPE,
      unixSeconds(ctx.clock),
      from,
    );
    const id = notification.attrs['id'] ?? '';
    const afterSeq = lastSeq(connection);
    ctx.step(`send a notification of type="${UNHANDLED_NOTIFICATION_TYPE}" from ${from}, which no client handles`);
    connection.send(notification);
    ctx.step('wait for the ack of the notification');
    await ctx.testbed.frameFrom(connection, sends('ack', { id }), { afterSeq });
    return judgeNotificationAck(
      sentBy(connection, afterSeq).map((s) => s.element),
      notification,
      connection.closed,
    );
  },
);

/** RECEIPT-DELIVERY */
export const deliveryReceipt = defineCheck({ name: 'stanza/receipt/delivery' }, async (ctx) => {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  ctx.step('wait for the delivery receipt');
  await ctx.testbed.frameFrom(p.provider.connection, sends('receipt', { id }, isDeliveryReceipt), { afterSeq });
  return judgeDeliveryReceipt(
    sentBy(p.provider.connection, afterSeq).map((s) => s.element),
    id,
    p.gatekeeperUser.jid,
    ctx.clock,
    p.provider.connection.closed,
  );
});

/**
 * RECEIPT-DELIVERY, on what the client sent after message `id` from `peer` reached it; `closed`:
 * the connection closed, which ended the wait.
 */
export function judgeDeliveryReceipt(
  sent: readonly StanzaNode[],
  id: string,
  peer: string,
  clock: Clock,
  closed?: ConnectionClosed,
): Finding {
  const expected = `<receipt id="${id}" to="${peer}"/> with no type or type="inactive" (t optional)`;
  if (!sent.some((n) => isDeliveryReceipt(n) && n.attrs['id'] === id)) {
    return notMet(expected, `${noneBefore('no delivery receipt', closed)}; the client sent ${describeAll(sent)}`);
  }
  const receipt = sent.find((n) => isDeliveryReceipt(n) && n.attrs['id'] === id);
  if (!receipt?.attrs['to']) return notMet(expected, 'a receipt without to');
  if (receipt.attrs['to'] !== peer) return notMet(expected, `to="${receipt.attrs['to']}"`);
  // WhatsApp's clients send no t on a delivery receipt; one that is sent is judged (STANZA-TIME).
  return receipt.attrs['t'] === undefined
    ? met("no t, as WhatsApp's clients send it")
    : judgeTime(receipt.attrs['t'], clock, 'the delivery receipt');
}

/** RECEIPT-AFTER-DECRYPT: a message that cannot decrypt gets no delivery receipt. */
export const noReceiptWithoutDecrypt = defineCheck({ name: 'stanza/receipt/after-decrypt' }, async (ctx) => {
  const p = await pair(ctx);
  const { id, afterSeq } = deliverUndecryptable(p, ctx);
  ctx.step('watch for a delivery receipt');
  await ctx.testbed.frameFrom(p.provider.connection, sends('ack', { class: 'message', id }), { afterSeq });
  const until = await barrier(p.provider.connection, ctx.signal);
  return judgeNoDeliveryReceipt(
    sentBy(p.provider.connection, afterSeq),
    id,
    `before the ${until === 'ping' ? 'answer to a ping' : `end of ${QUIET_MS} ms`}`,
  );
});

/** RECEIPT-AFTER-DECRYPT, on what the client sent, `until` some point, after an undecryptable message `id` reached it. */
export function judgeNoDeliveryReceipt(sent: readonly Sent[], id: string, until: string): Finding {
  const receipt = sent.find((s) => isDeliveryReceipt(s.element) && s.element.attrs['id'] === id);
  return receipt
    ? notMet(
        'no delivery receipt for a message that cannot be decrypted (a retry receipt instead)',
        `a delivery receipt for it: ${receipt.frame.text.slice(0, 120)}`,
      )
    : met(`no delivery receipt ${until}`);
}

/** PING: `params.child`, the ping carries a `<ping/>` child, which a client takes too. */
export const ping = defineCheck(
  { name: 'stanza/frame/ping', params: paramsOf({ child: { type: 'boolean' } }) },
  async (ctx) => {
    const child = ctx.params['child'] === true;
    const { connection } = await ctx.testbed.providerUser();
    ctx.step(child ? 'ping the client with a <ping/> child' : 'ping the client');
    const after = lastSeq(connection);
    if (await connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS, child })) return met();
    const pingId = connection.frames.find(
      (f) => f.direction === 'gatekeeper-to-client' && f.seq > after && f.node?.attrs['xmlns'] === PING_NS,
    )?.node?.attrs['id'];
    // A refusal of this ping: an `<iq type="error">`, or an ack with an error (IN-ERROR).
    const refusal = sentBy(connection, after).find(
      ({ element: e }) =>
        e.attrs['id'] === pingId &&
        ((e.tag === 'iq' && e.attrs['type'] === 'error') || (e.tag === 'ack' && e.attrs['error'] !== undefined)),
    )?.element;
    return refusal
      ? notMet('<iq type="result"> with the ping\'s id', `the ping refused: ${show(refusal)}`)
      : judgePingAnswer(false, ANSWER_MS, connection.closed);
  },
);

/**
 * PING, on whether the client answered the gatekeeper's ping within `timeoutMs`; `closed`: the
 * connection closed, which ended the wait.
 */
export const judgePingAnswer = (answered: boolean, timeoutMs: number, closed?: ConnectionClosed): Finding =>
  answered
    ? met()
    : notMet('<iq type="result"> with the ping\'s id', noneBefore('no answer to the ping', closed, timeoutMs));

/**
 * What comes right before the ping (`params.element`): a message from a peer, a read receipt for the
 * user's message, or a member's message in a group, which a client may open apart (sender keys).
 */
const ORDERED = ['message', 'receipt', 'group'] as const;

/**
 * IN-ORDER: an element, then a ping at once: the element's answers come before the ping's. A
 * message is answered by its ack or receipt; a receipt by its ack, which a client that acks
 * receipts from a task of its own writes too late; a group message too by its ack or receipt, which
 * a client that opens group messages off its read loop writes too late.
 */
export const inOrder = defineCheck(
  { name: 'stanza/receipt/in-order', params: paramsOf({ element: { enum: [...ORDERED] } }) },
  async (ctx) => {
    const element = choiceParam(ctx, 'element', ORDERED, 'message');
    const { connection, id, afterSeq } = await orderedElement(ctx, element);
    const what = element === 'group' ? 'group message' : element;
    ctx.step(`ping right behind the ${what}`);
    const answered = await connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS });
    if (!answered) throw new PreconditionError(noneBefore('no answer to the ping', connection.closed));
    // Any answer to a message will do (its ack or its receipt): the order is what is judged here.
    const isAnswer = (n: StanzaNode): boolean =>
      element === 'receipt'
        ? n.tag === 'ack' && n.attrs['class'] === 'receipt' && n.attrs['id'] === id
        : (n.tag === 'receipt' || n.tag === 'ack') && n.attrs['id'] === id;
    const sent = sentBy(connection, afterSeq);
    const answerAt = sent.findIndex((s) => isAnswer(s.element));
    const pongAt = sent.findIndex((s) => s.element.tag === 'iq' && s.element.attrs['type'] === 'result');
    const answer = element === 'receipt' ? "the receipt's ack" : `the ${what}'s ack or receipt`;
    const expected = `${answer} before the answer to the ping that followed it`;
    if (answerAt !== -1)
      return answerAt < pongAt ? met() : notMet(expected, `the ping's answer first, then the answer to the ${what}`);
    // Too late, or never: the verdict says which.
    ctx.step(`wait for a late answer to the ${what}`);
    const late = await ctx.testbed.frameFrom(
      connection,
      () => sentBy(connection, afterSeq).some((s) => isAnswer(s.element)),
      { afterSeq },
    );
    if (late) return notMet(expected, `the ping's answer first, then the answer to the ${what}`);
    return notMet(
      expected,
      `the ping's answer, and no answer to the ${what} at all; the client sent ${describeAll(sent.map((s) => s.element))}`,
    );
  },
);

/** The element IN-ORDER puts right before a ping, delivered: the provider's connection, its id, and where the answers to it start. */
async function orderedElement(
  ctx: CheckContext,
  element: (typeof ORDERED)[number],
): Promise<{ connection: ClientConnection; id: string; afterSeq: number }> {
  if (element === 'group') {
    const g = await group(ctx);
    const [member] = g.members;
    const encrypted = await member.encryptGroupText(g.jid, `group message ${ctx.rng.string(12)}`);
    const afterSeq = lastSeq(g.provider.connection);
    ctx.step('a member sends a group message, its sender key beside it');
    const id = member.deliverGroup(encrypted, { id: ctx.rng.string(20, 'ABCDEF0123456789'), withDistributions: true });
    return { connection: g.provider.connection, id, afterSeq };
  }
  const p = await pair(ctx);
  const { id, afterSeq } = element === 'message' ? await receiveOne(p, ctx) : await readReceiptFor(ctx, p);
  return { connection: p.provider.connection, id, afterSeq };
}

/**
 * The provider user's message, its delivery receipt acked, then the gatekeeper user's read receipt
 * for it delivered: its id, and where the answers to the read receipt start.
 */
async function readReceiptFor(ctx: CheckContext, p: Pair): Promise<{ id: string; afterSeq: number }> {
  const id = await sendReceiptAcked(ctx, p);
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step('the gatekeeper user reads the message');
  const t = String(unixSeconds(ctx.clock));
  ctx.testbed.gatekeeper.deliver(p.provider.login, receipt({ id, from: p.gatekeeperUser.jid, t, type: 'read' }));
  return { id, afterSeq };
}
