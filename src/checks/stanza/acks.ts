/** Acknowledgements, receipts and pings from the provider's client (docs/PROFILE.md §1, §6). */
import { HarnessError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import { ANSWER_MS, QUIET_MS, type CheckContext } from '../check.js';
import { barrier, describeAll, sends, sentBy } from '../observe.js';
import { judgeTime } from '../time.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import { deliverUndecryptable, pair, receiveOne, sendOneWithId } from './scenario.js';

/**
 * ACK-MESSAGE: a message the client decrypted is acked, or answered by its delivery receipt alone,
 * which whatsmeow sends in place of the ack; one it could not decrypt is acked by every client.
 */
export async function ackMessage(ctx: CheckContext): Promise<Finding> {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  ctx.step('wait for the ack or the delivery receipt');
  const acked = sends('ack', { class: 'message', id });
  const answered = await ctx.lab.frameFrom(p.provider.connection, (f) => acked(f) || sends('receipt', { id }, isDeliveryReceipt)(f), { afterSeq });
  const decryptedExpected = `<ack class="message" id="${id}" to="${p.reference.jid}"/>, or its delivery receipt`;
  if (!answered) return notMet(decryptedExpected, `neither for the message within ${ANSWER_MS} ms; the client sent ${describeAll(sentBy(p.provider.connection, afterSeq).map((s) => s.element))}`);
  const ack = sentBy(p.provider.connection, afterSeq).find((s) => s.element.tag === 'ack' && s.element.attrs['id'] === id)?.element;
  if (ack && ack.attrs['to'] !== p.reference.jid) return notMet(decryptedExpected, `<ack> with to="${ack.attrs['to'] ?? ''}"`);
  const bad = deliverUndecryptable(p, ctx);
  ctx.step('wait for the ack of a message that cannot be decrypted');
  const expected = `<ack class="message" id="${bad.id}" to="${p.reference.jid}"/> for a message it could not decrypt`;
  const badAck = await ctx.lab.frameFrom(p.provider.connection, sends('ack', { class: 'message', id: bad.id }), { afterSeq: bad.afterSeq });
  if (!badAck) return notMet(expected, `no <ack> for the message within ${ANSWER_MS} ms; the client sent ${describeAll(sentBy(p.provider.connection, bad.afterSeq).map((s) => s.element))}`);
  const element = sentBy(p.provider.connection, bad.afterSeq).find((s) => s.element.tag === 'ack' && s.element.attrs['id'] === bad.id)?.element;
  return element?.attrs['to'] === p.reference.jid ? met() : notMet(expected, `<ack> with to="${element?.attrs['to'] ?? ''}"`);
}

/** ACK-RECEIPT */
export async function ackReceipt(ctx: CheckContext): Promise<Finding> {
  const p = await pair(ctx);
  const { id, afterSeq } = await sendOneWithId(p, ctx);
  ctx.step('wait for the receipt to reach the client');
  const toClient = await p.provider.connection.waitForFrame(
    (f) => f.node?.tag === 'receipt' && f.node.attrs['id'] === id,
    { signal: ctx.signal, timeoutMs: ANSWER_MS, afterSeq, direction: 'gatekeeper-to-client' },
  );
  if (!toClient) throw new HarnessError('E_PRECONDITION', 'the reference user\'s delivery receipt never reached the client');
  ctx.step('wait for the ack of the receipt');
  const expected = `<ack class="receipt" id="${id}" to="${p.reference.jid}"/>`;
  const ack = await ctx.lab.frameFrom(p.provider.connection, sends('ack', { class: 'receipt', id }), { afterSeq: toClient.seq });
  if (!ack) return notMet(expected, `no <ack> for the receipt within ${ANSWER_MS} ms; the client sent ${describeAll(sentBy(p.provider.connection, toClient.seq).map((s) => s.element))}`);
  return met();
}

/** RECEIPT-DELIVERY */
export async function deliveryReceipt(ctx: CheckContext): Promise<Finding> {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  ctx.step('wait for the delivery receipt');
  const expected = `<receipt id="${id}" to="${p.reference.jid}"/> with no type or type="inactive" (t optional)`;
  const frame = await ctx.lab.frameFrom(p.provider.connection, sends('receipt', { id }, isDeliveryReceipt), { afterSeq });
  if (!frame) return notMet(expected, `no delivery receipt within ${ANSWER_MS} ms; the client sent ${describeAll(sentBy(p.provider.connection, afterSeq).map((s) => s.element))}`);
  const receipt = sentBy(p.provider.connection, afterSeq).find((s) => s.element.tag === 'receipt' && s.element.attrs['id'] === id)?.element;
  if (!receipt?.attrs['to']) return notMet(expected, 'a receipt without to');
  if (receipt.attrs['to'] !== p.reference.jid) return notMet(expected, `to="${receipt.attrs['to']}"`);
  // WhatsApp's clients send no t on a delivery receipt; one that is sent is judged (STANZA-TIME).
  return receipt.attrs['t'] === undefined ? met('no t, as WhatsApp\'s clients send it') : judgeTime(receipt.attrs['t'], ctx.clock, 'the delivery receipt');
}

/** RECEIPT-AFTER-DECRYPT: a message that cannot decrypt gets no delivery receipt. */
export async function noReceiptWithoutDecrypt(ctx: CheckContext): Promise<Finding> {
  const p = await pair(ctx);
  const { id, afterSeq } = deliverUndecryptable(p, ctx);
  ctx.step('watch for a delivery receipt');
  await ctx.lab.frameFrom(p.provider.connection, sends('ack', { class: 'message', id }), { afterSeq });
  const until = await barrier(p.provider.connection, ctx.signal);
  const receipt = sentBy(p.provider.connection, afterSeq).find((s) => isDeliveryReceipt(s.element) && s.element.attrs['id'] === id);
  return receipt
    ? notMet('no delivery receipt for a message that cannot be decrypted (a retry receipt instead)', `a delivery receipt for it: ${receipt.frame.text.slice(0, 120)}`)
    : met(`no delivery receipt before the ${until === 'ping' ? 'answer to a ping' : `end of ${QUIET_MS} ms`}`);
}

/** PING */
export async function ping(ctx: CheckContext): Promise<Finding> {
  const { connection } = await ctx.lab.providerUser();
  ctx.step('ping the client');
  return (await connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS }))
    ? met()
    : notMet('<iq type="result"> with the ping\'s id', `no answer to the ping within ${ANSWER_MS} ms`);
}

/** IN-ORDER: a message, then a ping at once: the message's answers come before the ping's. */
export async function inOrder(ctx: CheckContext): Promise<Finding> {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  ctx.step('ping right behind the message');
  const answered = await p.provider.connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS });
  if (!answered) throw new HarnessError('E_PRECONDITION', `no answer to the ping within ${ANSWER_MS} ms`);
  const sent = sentBy(p.provider.connection, afterSeq);
  // Any answer to the message will do (its ack or its receipt): the order is what is judged here.
  const answerAt = sent.findIndex((s) => (s.element.tag === 'receipt' || s.element.tag === 'ack') && s.element.attrs['id'] === id);
  const pongAt = sent.findIndex((s) => s.element.tag === 'iq' && s.element.attrs['type'] === 'result');
  const expected = 'the message\'s ack or receipt before the answer to the ping that followed it';
  if (answerAt === -1) return notMet(expected, `the ping's answer, and no answer to the message before it; the client sent ${describeAll(sent.map((s) => s.element))}`);
  return answerAt < pongAt ? met() : notMet(expected, 'the ping\'s answer first, then the answer to the message');
}
