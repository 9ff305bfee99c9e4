/** What a case's gatekeeper users decrypted (ContentWatch): each asked text as asked (ENC-CONTENT), a media key per message (MEDIA-KEY-FRESH). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONTENT_BROKEN,
  CONTENT_EXPECTED,
  ContentWatch,
  MEDIA_KEY_EXPECTED,
  MEDIA_KEY_REUSED,
} from '../src/checks/content-watch.js';
import type { GatekeeperUser } from '../src/gatekeeper/types.js';
import { encodeMediaMessage, type MediaFields } from '../src/protocol/media/message.js';
import { encodeMessage, pad, textPayload } from '../src/protocol/payload.js';

const GROUP = '120363000000000001@g.us';

/** A gatekeeper user holding these one-to-one and group deliveries; the watch reads nothing else of it. */
function recipient(
  deliveries: { id: string; plaintext?: Uint8Array }[],
  groupDeliveries: { id: string; plaintext?: Uint8Array }[] = [],
): GatekeeperUser {
  return {
    jid: '2@s.whatsapp.net',
    deliveries,
    groupDeliveries: groupDeliveries.map((d) => ({ ...d, group: GROUP })),
  } as unknown as GatekeeperUser;
}

/** The actual of the watch's verdict on texts (ENC-CONTENT), or undefined when it has none. */
const judgeTexts = (watch: ContentWatch, users: readonly GatekeeperUser[]): string | undefined =>
  watch.judge(users).find((v) => v.expected === CONTENT_EXPECTED)?.actual;
/** The same for media keys (MEDIA-KEY-FRESH). */
const judgeMediaKeys = (watch: ContentWatch, users: readonly GatekeeperUser[]): string | undefined =>
  watch.judge(users).find((v) => v.expected === MEDIA_KEY_EXPECTED)?.actual;

function watching(...sends: [string, string][]): ContentWatch {
  const watch = new ContentWatch();
  for (const [id, text] of sends) watch.sent(id, text);
  return watch;
}

void test('a text decrypted as asked passes, one to one, replied or in a group; one never asked for is not judged', () => {
  const watch = watching(['A1', ' hello\u00A0']);
  const reply = pad(encodeMessage({ extendedTextMessage: { text: ' hello\u00A0', contextInfo: { stanzaId: 'X' } } }));
  assert.equal(judgeTexts(watch, [recipient([{ id: 'A1', plaintext: textPayload(' hello\u00A0') }])]), undefined);
  assert.equal(judgeTexts(watch, [recipient([{ id: 'A1', plaintext: reply }])]), undefined);
  assert.equal(judgeTexts(watch, [recipient([], [{ id: 'A1', plaintext: textPayload(' hello\u00A0') }])]), undefined);
  assert.equal(judgeTexts(watch, [recipient([{ id: 'B2', plaintext: textPayload('other') }])]), undefined);
});

void test('a message the recipient could not decrypt is left to the cases that judge decryption', () => {
  assert.equal(judgeTexts(watching(['A1', 'hello']), [recipient([{ id: 'A1' }])]), undefined);
});

void test('a changed text fails on any send, the second as the first, and says how it changed', () => {
  const watch = watching(['A1', 'first'], ['A2', ' second ']);
  const users = [
    recipient([
      { id: 'A1', plaintext: textPayload('first') },
      { id: 'A2', plaintext: textPayload('second') },
    ]),
  ];
  const actual = judgeTexts(watch, users) ?? '';
  assert.ok(actual.startsWith(CONTENT_BROKEN), actual);
  assert.match(actual, /message A2 to 2@s\.whatsapp\.net/);
  assert.match(actual, /trimmed of its leading and trailing whitespace/);
});

void test('a group text changed in the group fails, named by the group', () => {
  const actual = judgeTexts(watching(['G1', 'e\u0301']), [
    recipient([], [{ id: 'G1', plaintext: textPayload('\u00E9') }]),
  ]);
  assert.match(actual ?? '', /message G1 in 120363000000000001@g\.us.*normalization form NFC/);
});

void test('a plaintext that does not unpad, is no Message, or holds no text fails with that reason', () => {
  const unpadded = encodeMessage({ conversation: 'hello' });
  unpadded[unpadded.length - 1] = 0;
  const cases: [Uint8Array, RegExp][] = [
    [unpadded, /padding does not unpad/],
    [pad(new Uint8Array([0x07, 0x01, 0x02])), /no Message protobuf/],
    [pad(encodeMessage({})), /a Message with no text/],
  ];
  for (const [plaintext, reason] of cases)
    assert.match(judgeTexts(watching(['A1', 'hello']), [recipient([{ id: 'A1', plaintext }])]) ?? '', reason);
});

const file = (key: number): MediaFields => ({
  directPath: '/v/t62/a',
  mimetype: 'image/jpeg',
  fileLength: 10,
  mediaKey: new Uint8Array(32).fill(key),
});
const media = (type: 'image' | 'video' | 'audio' | 'document', key: number): Uint8Array =>
  pad(encodeMediaMessage(type, file(key)));

void test('a mediaKey of its own in each media message passes; the same message re-sent under its id, or to two members, is one message', () => {
  const watch = new ContentWatch();
  assert.equal(
    judgeMediaKeys(watch, [
      recipient([
        { id: 'M1', plaintext: media('image', 1) },
        { id: 'M2', plaintext: media('video', 2) },
      ]),
    ]),
    undefined,
  );
  assert.equal(
    judgeMediaKeys(watch, [
      recipient([
        { id: 'M1', plaintext: media('image', 1) },
        { id: 'M1', plaintext: media('image', 1) },
      ]),
      recipient([{ id: 'M1', plaintext: media('image', 1) }]),
    ]),
    undefined,
  );
});

void test('one mediaKey in two media messages fails, of any types, and the key is never quoted', () => {
  const actual =
    judgeMediaKeys(new ContentWatch(), [
      recipient([
        { id: 'M1', plaintext: media('document', 7) },
        { id: 'M2', plaintext: media('audio', 7) },
      ]),
    ]) ?? '';
  assert.ok(actual.startsWith(MEDIA_KEY_REUSED), actual);
  assert.match(actual, /message M2 .* mediaKey of message M1/);
  assert.ok(
    !actual.includes(Buffer.alloc(32, 7).toString('hex')) && !actual.includes(Buffer.alloc(32, 7).toString('base64')),
  );
});
