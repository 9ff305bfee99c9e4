/** What a case's provider users were shown of its gatekeeper users' messages (ShownWatch): each as it was sent. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHOWN_BROKEN, SHOWN_EXPECTED, ShownWatch } from '../src/checks/shown-watch.js';
import type { GatekeeperUser } from '../src/gatekeeper/types.js';
import type { ReceivedMessage } from '../src/protocol/driver-api.js';
import { encodeMediaMessage } from '../src/protocol/media/message.js';
import { reactionContent, replyContent } from '../src/protocol/messaging.js';
import { encodeMessage, pad, textPayload } from '../src/protocol/payload.js';

const PEER = '31000000001@s.whatsapp.net';
const OTHER = '31000000002@s.whatsapp.net';
const GROUP = '120363000000000001@g.us';
const USER = '491510000001';

/** A gatekeeper user that sent these messages; the watch reads nothing else of it. */
const sender = (jid: string, sends: { id: string; to: string; plaintext: Uint8Array }[]): GatekeeperUser =>
  ({ jid, sends }) as unknown as GatekeeperUser;

/** The watch's verdict on an inbox of `entries`, read once, against `senders`; undefined when it has none. */
function judged(senders: readonly GatekeeperUser[], ...entries: ReceivedMessage[]): string | undefined {
  const watch = new ShownWatch();
  watch.shown(USER, entries);
  const [violation, ...more] = watch.judge(senders);
  assert.equal(more.length, 0, 'one violation at most');
  if (violation) assert.equal(violation.expected, SHOWN_EXPECTED);
  return violation?.actual;
}

const text = (id: string, from: string, t: string, extra: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  id,
  from,
  text: t,
  ...extra,
});

void test('a text shown as sent passes, one to one or in a group; an entry of an id no gatekeeper user sent is not judged', () => {
  const peer = sender(PEER, [
    { id: 'A1', to: USER, plaintext: textPayload(' hi\u2028\r\n') },
    { id: 'G1', to: GROUP, plaintext: textPayload('to all') },
  ]);
  assert.equal(
    judged([peer], text('A1', PEER, ' hi\u2028\r\n'), text('G1', PEER, 'to all', { group: GROUP })),
    undefined,
  );
  assert.equal(judged([peer], text('ZZ', OTHER, 'anything')), undefined);
});

void test('a text shown from another sender, in another chat, or changed fails, saying which and how', () => {
  const peer = sender(PEER, [
    { id: 'A1', to: USER, plaintext: textPayload('hi\n') },
    { id: 'G1', to: GROUP, plaintext: textPayload('to all') },
  ]);
  assert.equal(
    judged([peer], text('A1', OTHER, 'hi\n')),
    `${SHOWN_BROKEN} message A1 to ${USER}: shown as from ${OTHER}, sent by ${PEER}`,
  );
  assert.equal(
    judged([peer], text('G1', PEER, 'to all')),
    `${SHOWN_BROKEN} message G1 to ${USER}: shown in the one-to-one chat, sent to ${GROUP}`,
  );
  assert.equal(
    judged([peer], text('G1', GROUP, 'to all', { group: GROUP })),
    `${SHOWN_BROKEN} message G1 to ${USER}: shown as from ${GROUP}, sent by ${PEER}`,
  );
  assert.match(judged([peer], text('A1', PEER, 'hi')) ?? '', /^a message .* message A1 .*: its text shown changed: /);
});

void test('a reply shows its quote, and a text that quotes nothing shows none', () => {
  const peer = sender(PEER, [
    { id: 'R1', to: USER, plaintext: pad(encodeMessage(replyContent('yes', 'Q1', USER))) },
    { id: 'T1', to: USER, plaintext: textPayload('plain') },
  ]);
  assert.equal(judged([peer], text('R1', PEER, 'yes', { replyTo: 'Q1' })), undefined);
  assert.match(judged([peer], text('R1', PEER, 'yes')) ?? '', /shown quoting nothing, sent quoting Q1$/);
  assert.match(judged([peer], text('R1', PEER, 'yes', { replyTo: 'Q2' })) ?? '', /shown quoting Q2, sent quoting Q1$/);
  assert.match(
    judged([peer], text('T1', PEER, 'plain', { replyTo: 'Q1' })) ?? '',
    /shown as a reply to Q1, sent quoting nothing$/,
  );
});

void test('a reaction shows its emoji on the message it names; a file shows its media type', () => {
  const file = encodeMediaMessage('audio', {
    directPath: '/x',
    url: 'https://x',
    mimetype: 'audio/ogg',
    fileLength: 3,
  });
  const peer = sender(PEER, [
    { id: 'E1', to: USER, plaintext: pad(encodeMessage(reactionContent(PEER, 'M1', false, '👩🏽‍💻'))) },
    { id: 'F1', to: USER, plaintext: pad(file) },
  ]);
  const media = { type: 'audio', mimetype: 'audio/ogg', fileLength: 3, sha256: '' } as const;
  assert.equal(judged([peer], text('E1', PEER, '', { reaction: { id: 'M1', emoji: '👩🏽‍💻' } })), undefined);
  assert.match(
    judged([peer], text('E1', PEER, '', { reaction: { id: 'M1', emoji: '👩' } })) ?? '',
    /a reaction 👩🏽‍💻 on message M1 shown as 👩 on message M1$/,
  );
  assert.match(judged([peer], text('E1', PEER, 'x')) ?? '', /shown as no reaction$/);
  assert.equal(judged([peer], text('F1', PEER, '', { media })), undefined);
  assert.match(
    judged([peer], text('F1', PEER, '', { media: { ...media, type: 'document' } })) ?? '',
    /audio shown as document$/,
  );
});

void test('an id sent twice is shown right as either; a notice or a revoked entry is left to its cases', () => {
  const peer = sender(PEER, [
    { id: 'D1', to: USER, plaintext: textPayload('first') },
    { id: 'D1', to: USER, plaintext: textPayload('second') },
  ]);
  assert.equal(judged([peer], text('D1', PEER, 'second')), undefined);
  assert.equal(judged([peer], text('D1', PEER, '', { revoked: true })), undefined);
  assert.equal(judged([peer], text('D1', PEER, '', { notice: 'unsupported' })), undefined);
  assert.match(judged([peer], text('D1', PEER, 'third')) ?? '', /its text shown changed/);
});
