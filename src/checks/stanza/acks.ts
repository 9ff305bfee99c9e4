/** Acknowledgements, receipts and pings from the provider's client (docs/PROFILE.md §1, §6). */
import type { Clock } from '../../core/clock.js';
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { StanzaNode } from '../../protocol/node.js';
import { defineCheck, ANSWER_MS, QUIET_MS } from '../check.js';
import type { ConnectionClosed } from '../../gatekeeper/types.js';
import { barrier, describeAll, noneBefore, sends, sentBy, type Sent } from '../observe.js';
import { judgeMessageAck, judgeReceiptAck } from '../scenarios/acks.js';
import { judgeTime } from '../time.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import { deliverUndecryptable, pair, receiveOne, sendOneWithId } from '../scenarios/conversation.js';

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

/** ACK-RECEIPT, on the ack of the gatekeeper user's delivery receipt, which has no `type`. */
export const ackReceipt = defineCheck({ name: 'stanza/ack/receipt' }, async (ctx) => {
  const p = await pair(ctx);
  const { id, afterSeq } = await sendOneWithId(p, ctx);
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
});

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

/** PING */
export const ping = defineCheck({ name: 'stanza/frame/ping' }, async (ctx) => {
  const { connection } = await ctx.testbed.providerUser();
  ctx.step('ping the client');
  return judgePingAnswer(
    await connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS }),
    ANSWER_MS,
    connection.closed,
  );
});

/**
 * PING, on whether the client answered the gatekeeper's ping within `timeoutMs`; `closed`: the
 * connection closed, which ended the wait.
 */
export const judgePingAnswer = (answered: boolean, timeoutMs: number, closed?: ConnectionClosed): Finding =>
  answered
    ? met()
    : notMet('<iq type="result"> with the ping\'s id', noneBefore('no answer to the ping', closed, timeoutMs));

/** IN-ORDER: a message, then a ping at once: the message's answers come before the ping's. */
export const inOrder = defineCheck({ name: 'stanza/receipt/in-order' }, async (ctx) => {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  ctx.step('ping right behind the message');
  const answered = await p.provider.connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS });
  if (!answered) throw new PreconditionError(noneBefore('no answer to the ping', p.provider.connection.closed));
  const sent = sentBy(p.provider.connection, afterSeq);
  // Any answer to the message will do (its ack or its receipt): the order is what is judged here.
  const answerAt = sent.findIndex(
    (s) => (s.element.tag === 'receipt' || s.element.tag === 'ack') && s.element.attrs['id'] === id,
  );
  const pongAt = sent.findIndex((s) => s.element.tag === 'iq' && s.element.attrs['type'] === 'result');
  const expected = "the message's ack or receipt before the answer to the ping that followed it";
  if (answerAt === -1)
    return notMet(
      expected,
      `the ping's answer, and no answer to the message before it; the client sent ${describeAll(sent.map((s) => s.element))}`,
    );
  return answerAt < pongAt ? met() : notMet(expected, "the ping's answer first, then the answer to the message");
});
