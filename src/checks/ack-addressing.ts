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
 * A receipt the client sends names a message the gatekeeper delivered to it, and goes to that
 * message's sender: `to` its `from` (the group, for a group message) and its `participant` copied
 * (RECEIPT-DELIVERY, READ-ON-MARK, RETRY-RECEIPT, GROUP-FANOUT; whatsmeow `receipt.go`
 * `buildBaseReceipt`, Baileys `sendReceipt`). `delivered`: the messages of that id it was sent.
 */
export function judgeReceiptAddressing(receipt: StanzaNode, delivered: readonly StanzaNode[]): Finding {
  const { id, to, participant } = receipt.attrs;
  const expected = `a receipt naming a message delivered to the client, to its sender`;
  const last = delivered.at(-1);
  if (!last) return notMet(expected, `a receipt for message ${id ?? '(no id)'}, which never reached the client`);
  const from = (m: StanzaNode) => m.attrs['from'];
  if (!delivered.some((m) => from(m) === to))
    return notMet(`${expected}: to="${from(last) ?? ''}"`, `a receipt for ${id ?? ''} with to="${to ?? ''}"`);
  const sender = last.attrs['participant'];
  if (sender !== undefined && !delivered.some((m) => m.attrs['participant'] === participant))
    return notMet(
      `${expected}: participant="${sender}"`,
      participant === undefined
        ? `a receipt for ${id ?? ''} without participant`
        : `a receipt for ${id ?? ''} with participant="${participant}"`,
    );
  return met();
}
