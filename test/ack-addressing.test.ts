/** How an ack names what it acks (src/checks/ack-addressing.ts), as the lineage's sendAck writes it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeAckAddressing } from '../src/checks/ack-addressing.js';
import { node } from '../src/protocol/node.js';

const groupMessage = node('message', { id: 'M1', from: '1203@g.us', participant: '49@s.whatsapp.net', t: '1' });
const readReceipt = node('receipt', { id: 'M2', from: '49@s.whatsapp.net', type: 'read' });
const deliveryReceipt = node('receipt', { id: 'M3', from: '49@s.whatsapp.net' });

void test("an ack copies the element's from as to, its participant, and for a receipt its type", () => {
  const ack = (attrs: Record<string, string>) => node('ack', { class: 'x', id: 'x', ...attrs });
  assert.equal(
    judgeAckAddressing(ack({ to: '1203@g.us', participant: '49@s.whatsapp.net' }), groupMessage).verdict,
    'met',
  );
  assert.equal(judgeAckAddressing(ack({ to: '49@s.whatsapp.net', type: 'read' }), readReceipt).verdict, 'met');
  assert.equal(judgeAckAddressing(ack({ to: '49@s.whatsapp.net' }), deliveryReceipt).verdict, 'met');
  const wrong = [
    [
      ack({ to: '49@s.whatsapp.net', participant: '49@s.whatsapp.net' }),
      groupMessage,
      'an ack with to="49@s.whatsapp.net"',
    ],
    [ack({ to: '1203@g.us' }), groupMessage, 'an ack without participant'],
    [ack({ to: '1203@g.us', participant: '1203@g.us' }), groupMessage, 'an ack with participant="1203@g.us"'],
    [ack({ to: '49@s.whatsapp.net' }), readReceipt, 'an ack without type'],
    [ack({ to: '49@s.whatsapp.net', type: 'read' }), deliveryReceipt, 'an ack with type="read"'],
  ] as const;
  for (const [a, acked, actual] of wrong) {
    const finding = judgeAckAddressing(a, acked);
    assert.equal(finding.verdict === 'not-met' && finding.actual, actual);
  }
});
