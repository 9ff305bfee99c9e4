/**
 * The rules the Testbed's watch holds through every case: on group messages (GROUP-SKMSG,
 * GROUP-SKDM), on message ids used again (STANZA-ID-UNIQUE), and on read receipts for what the
 * user did not read (READ-ONLY-MARKED).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FrameEvent } from '../src/gatekeeper/types.js';
import { MESSAGE_BROKEN, READ_BROKEN, WireWatch } from '../src/checks/wire-watch.js';
import { node, type StanzaNode } from '../src/protocol/node.js';

const GROUP = '120363000000000001@g.us';
const SENDER = '1-1@interop';
const MEMBER = '2@s.whatsapp.net';

/** What the watch makes of the messages the client sends, and of the gatekeeper's (`to client`) between them: the violations it reports. */
function violations(
  ...stanzas: (StanzaNode | { toClient: StanzaNode } | { read: readonly [string, string] })[]
): string[] {
  const seen: string[] = [];
  const watch = new WireWatch((_expected, actual) => seen.push(actual));
  for (const [seq, s] of stanzas.entries()) {
    if ('read' in s) {
      watch.markedRead(...s.read);
      continue;
    }
    const toClient = 'toClient' in s;
    const frame: FrameEvent = {
      seq: seq + 1,
      at: Date.now(),
      connection: 'c1',
      login: SENDER,
      direction: toClient ? 'gatekeeper-to-client' : 'client-to-gatekeeper',
      binary: false,
      bytes: 0,
      text: '',
      node: toClient ? s.toClient : s,
    };
    watch.frame(frame);
  }
  return seen;
}

const enc = (type: string): StanzaNode => node('enc', { v: '2', type });
const groupMessage = (attrs: Record<string, string>, ...children: StanzaNode[]): StanzaNode =>
  node('message', { id: 'ABCDEF0123456789', to: GROUP, type: 'text', ...attrs }, children);
const participants = (...jids: string[]): StanzaNode =>
  node(
    'participants',
    {},
    jids.map((jid) => node('to', { jid }, [enc('pkmsg')])),
  );

void test('a group message with one skmsg, its key to the other members or to none, passes the watch', () => {
  assert.deepEqual(violations(groupMessage({}, participants(MEMBER), enc('skmsg'))), []);
  assert.deepEqual(violations(groupMessage({}, enc('skmsg'))), []);
});

void test('two skmsgs, the sender among the recipients, or a member named twice, is a violation wherever it is sent', () => {
  for (const [message, why] of [
    [groupMessage({}, enc('skmsg'), enc('skmsg')), '2 <enc type="skmsg">'],
    [groupMessage({}, participants(MEMBER, SENDER), enc('skmsg')), 'for the sender itself'],
    [groupMessage({}, participants(MEMBER, MEMBER), enc('skmsg')), `two <to jid="${MEMBER}">`],
  ] as const) {
    const [seen, ...more] = violations(message);
    assert.equal(more.length, 0);
    assert.ok(seen?.startsWith(MESSAGE_BROKEN) && seen.includes(why), seen);
  }
});

void test("a re-send to one member for its retry receipt passes in either lineage client's shape", () => {
  // whatsmeow retry.go: the pairwise <enc> alone, to the group, with the member as participant.
  assert.deepEqual(violations(groupMessage({ participant: MEMBER }, enc('msg'))), []);
  // Baileys relayMessage with a participant: the group's own shape, with the member as participant.
  assert.deepEqual(violations(groupMessage({ participant: MEMBER }, participants(MEMBER), enc('skmsg'))), []);
});

void test('a message id sent again is a violation, but for the re-send a retry receipt asked for', () => {
  const message = (id: string): StanzaNode =>
    node(
      'message',
      { id, to: MEMBER, type: 'text' },
      [participants(MEMBER).children[0] as StanzaNode].map((to) => node('participants', {}, [to])),
    );
  assert.deepEqual(violations(message('3EB0AAAA00000001'), message('3EB0AAAA00000002')), []);
  const [seen, ...more] = violations(message('3EB0AAAA00000001'), message('3EB0AAAA00000001'));
  assert.equal(more.length, 0);
  assert.ok(seen?.startsWith(MESSAGE_BROKEN) && seen.includes('id="3EB0AAAA00000001" again'), seen);
  const retry = { toClient: node('receipt', { id: '3EB0AAAA00000001', from: MEMBER, type: 'retry' }) };
  assert.deepEqual(violations(message('3EB0AAAA00000001'), retry, message('3EB0AAAA00000001')), []);
  // A delivery receipt asks for nothing again.
  const delivered = { toClient: node('receipt', { id: '3EB0AAAA00000001', from: MEMBER }) };
  assert.equal(violations(message('3EB0AAAA00000001'), delivered, message('3EB0AAAA00000001')).length, 1);
});

void test('a read receipt names only messages the user was asked to read, in its id and its list', () => {
  const delivered = (id: string): { toClient: StanzaNode } => ({
    toClient: node('message', { id, from: MEMBER, type: 'text' }, [enc('msg')]),
  });
  const read = (id: string, ...more: string[]): StanzaNode =>
    node(
      'receipt',
      { id, to: MEMBER, type: 'read', t: String(Math.floor(Date.now() / 1000)) },
      more.length === 0
        ? []
        : [
            node(
              'list',
              {},
              more.map((m) => node('item', { id: m })),
            ),
          ],
    );
  assert.deepEqual(violations(delivered('M1'), { read: [MEMBER, 'M1'] }, read('M1')), []);
  assert.deepEqual(
    violations(delivered('M1'), delivered('M2'), { read: [MEMBER, 'M1'] }, { read: [MEMBER, 'M2'] }, read('M1', 'M2')),
    [],
  );
  for (const stanzas of [
    [delivered('M1'), read('M1')],
    [delivered('M1'), delivered('M2'), { read: [MEMBER, 'M1'] } as const, read('M1', 'M2')],
    [delivered('M1'), { read: [GROUP, 'M1'] } as const, read('M1')],
  ]) {
    const [seen, ...more] = violations(...stanzas);
    assert.equal(more.length, 0);
    assert.ok(seen?.startsWith(READ_BROKEN), seen);
  }
});
