/**
 * How a client's acks are judged (ACK-MESSAGE, ACK-RECEIPT, ACK-NOTIFICATION, docs/PROFILE.md
 * §6), for every suite whose cases deliver a message, a receipt or a notification to it: the stanza
 * suite's own, a blocked peer's message, each kind of receipt.
 */
import { met, notMet, type Finding } from '../../core/model.js';
import { judgeAckAddressing } from '../ack-addressing.js';
import type { ConnectionClosed } from '../../gatekeeper/types.js';
import type { StanzaNode } from '../../protocol/node.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import { describeAll, noneBefore } from '../observe.js';

/**
 * ACK-MESSAGE, on what the client sent after message `id` from `peer` reached it: an ack, or for a
 * message it `decrypted`, its delivery receipt in the ack's stead. `closed`: the connection closed,
 * which ended the wait.
 */
export function judgeMessageAck(
  sent: readonly StanzaNode[],
  id: string,
  peer: string,
  decrypted: boolean,
  closed?: ConnectionClosed,
): Finding {
  const ack = sent.find((n) => n.tag === 'ack' && n.attrs['id'] === id);
  if (decrypted) {
    const expected = `<ack class="message" id="${id}" to="${peer}"/>, or its delivery receipt`;
    const answered = sent.some(
      (n) =>
        (n.tag === 'ack' && n.attrs['class'] === 'message' && n.attrs['id'] === id) ||
        (isDeliveryReceipt(n) && n.attrs['id'] === id),
    );
    if (!answered)
      return notMet(expected, `${noneBefore('neither for the message', closed)}; the client sent ${describeAll(sent)}`);
    return ack && ack.attrs['to'] !== peer ? notMet(expected, `<ack> with to="${ack.attrs['to'] ?? ''}"`) : met();
  }
  const expected = `<ack class="message" id="${id}" to="${peer}"/> for a message it could not decrypt`;
  if (!sent.some((n) => n.tag === 'ack' && n.attrs['class'] === 'message' && n.attrs['id'] === id)) {
    return notMet(expected, `${noneBefore('no <ack> for the message', closed)}; the client sent ${describeAll(sent)}`);
  }
  return ack?.attrs['to'] === peer ? met() : notMet(expected, `<ack> with to="${ack?.attrs['to'] ?? ''}"`);
}

/**
 * ACK-RECEIPT, on what the client sent after a receipt for message `id` from `peer` reached it: an
 * ack, no refusal, even for a message the client does not keep; it goes `to` the peer and carries
 * the receipt's `type`, none for a receipt without one (the lineage copies the receipt's own).
 * `closed`: the connection closed, which ended the wait.
 */
export function judgeReceiptAck(
  sent: readonly StanzaNode[],
  id: string,
  peer: string,
  receipt: { type?: string; closed?: ConnectionClosed | undefined } = {},
): Finding {
  const { type, closed } = receipt;
  const expected = `<ack class="receipt" id="${id}" to="${peer}"${type === undefined ? '' : ` type="${type}"`}/>`;
  const ack = sent.find((n) => n.tag === 'ack' && n.attrs['class'] === 'receipt' && n.attrs['id'] === id);
  if (!ack)
    return notMet(expected, `${noneBefore('no <ack> for the receipt', closed)}; the client sent ${describeAll(sent)}`);
  // A refusal is an ack too (IN-ERROR), but a receipt is acked whatever message it names.
  const error = ack.attrs['error'];
  if (error !== undefined) return notMet(expected, `the receipt refused: an ack with error="${error}"`);
  const got = ack.attrs['type'];
  if (got !== type) return notMet(expected, got === undefined ? 'an ack without type' : `an ack with type="${got}"`);
  return ack.attrs['to'] === peer ? met() : notMet(expected, `an ack to="${ack.attrs['to'] ?? ''}"`);
}

/**
 * ACK-NOTIFICATION, on what the client sent after `notification` reached it: an ack of class
 * `notification`, no refusal, addressed as the lineage addresses every ack. `closed`: the
 * connection closed, which ended the wait.
 */
export function judgeNotificationAck(
  sent: readonly StanzaNode[],
  notification: StanzaNode,
  closed?: ConnectionClosed,
): Finding {
  const { id = '', from = '', type = '' } = notification.attrs;
  const expected = `<ack class="notification" id="${id}" to="${from}" type="${type}"/>`;
  const ack = sent.find((n) => n.tag === 'ack' && n.attrs['id'] === id);
  if (!ack)
    return notMet(
      expected,
      `${noneBefore('no <ack> for the notification', closed)}; the client sent ${describeAll(sent)}`,
    );
  // A refusal is an ack too (IN-ERROR), but a notification is acked whatever its type.
  const error = ack.attrs['error'];
  if (error !== undefined) return notMet(expected, `the notification refused: an ack with error="${error}"`);
  if (ack.attrs['class'] !== 'notification') return notMet(expected, `an ack with class="${ack.attrs['class'] ?? ''}"`);
  return judgeAckAddressing(ack, notification);
}
