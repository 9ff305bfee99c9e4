/**
 * How a client's answer names what it answers, for the Testbed's watch over every ack and receipt
 * it sends: an ack as whatsmeow's `receipt.go` `sendAck` and Baileys' `sendMessageAck` write it
 * (ACK-MESSAGE, ACK-RECEIPT, GROUP-FANOUT, GROUP-CHANGE): `to` the element's `from`, its
 * `participant` copied, and for anything but a message its `type` too (none for a receipt without
 * one); a receipt to the sender of a message delivered to the client.
 */
import { met, notMet, type Finding } from '../core/model.js';
import type { StanzaNode } from '../protocol/node.js';

/** The ack `ack` of `acked`, an element the gatekeeper sent the client under the ack's class and id. */
export function judgeAckAddressing(ack: StanzaNode, acked: StanzaNode): Finding {
  const { from, participant, type } = acked.attrs;
  const copied: [string, string | undefined][] = [
    ['to', from],
    ['participant', participant],
    ...(acked.tag === 'message' ? [] : ([['type', type]] as [string, string | undefined][])),
  ];
  const expected = `the ack of <${acked.tag} id="${acked.attrs['id'] ?? ''}"> with ${copied
    .map(([name, value]) => (value === undefined ? `no ${name}` : `${name}="${value}"`))
    .join(', ')}`;
  // A participant the element lacks may still be written; every other attribute is the element's.
  const wrong = copied.find(([name, value]) => ack.attrs[name] !== value && !(name === 'participant' && !value));
  if (!wrong) return met();
  const [name] = wrong;
  const got = ack.attrs[name];
  return notMet(expected, got === undefined ? `an ack without ${name}` : `an ack with ${name}="${got}"`);
}

/**
 * A receipt the client sends for a message the gatekeeper delivered to it goes to that message's
 * sender: `to` its `from` (the group, for a group message) and its `participant` copied
 * (RECEIPT-DELIVERY, READ-ON-MARK, RETRY-RECEIPT, GROUP-FANOUT; whatsmeow `receipt.go`
 * `buildBaseReceipt`, Baileys `sendReceipt`). `delivered`: the messages of that id it was sent
 * with a `from`. A receipt for none is not judged here: the gatekeeper may have sent it as a frame
 * no parser reads (an oversized or restricted element), which a lenient client still answers.
 */
export function judgeReceiptAddressing(receipt: StanzaNode, delivered: readonly StanzaNode[]): Finding {
  const { id = '', to, participant } = receipt.attrs;
  const senders = delivered.filter((m) => m.attrs['from'] !== undefined);
  const last = senders.at(-1);
  if (!last) return met();
  const expected = `a receipt for message ${id} to its sender`;
  if (!senders.some((m) => m.attrs['from'] === to))
    return notMet(`${expected}: to="${last.attrs['from'] ?? ''}"`, `a receipt for ${id} with to="${to ?? ''}"`);
  const sender = last.attrs['participant'];
  if (sender !== undefined && !senders.some((m) => m.attrs['participant'] === participant))
    return notMet(
      `${expected}: participant="${sender}"`,
      participant === undefined
        ? `a receipt for ${id} without participant`
        : `a receipt for ${id} with participant="${participant}"`,
    );
  return met();
}
