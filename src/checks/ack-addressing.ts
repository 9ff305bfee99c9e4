/**
 * How an ack names what it acks (ACK-MESSAGE, ACK-RECEIPT, GROUP-FANOUT, GROUP-CHANGE), as
 * whatsmeow's `receipt.go` `sendAck` and Baileys' `sendMessageAck` write it: `to` the element's
 * `from`, its `participant` copied, and for anything but a message its `type` too (none for a
 * receipt without one). One judgement for the Testbed's watch over every ack a client sends.
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
