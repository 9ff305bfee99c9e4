/**
 * Values WhatsApp-lineage clients produce, at the boundaries of the profile's judgements: what a
 * lineage client sends must be met, and one step past the profile's limit must not.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { judgeRegistrationId } from '../src/checks/encryption/keys.js';
import { parseJid } from '../src/protocol/jid.js';

const lineageKeyhelper = createRequire(import.meta.url)('libsignal/src/keyhelper.js') as {
  generateRegistrationId(): number;
};

void test('KEYS-REGISTRATION: 0 and 16 383 are met, 16 384 and -1 are not', () => {
  for (const id of [0, 1, 255, 16_380, 16_383])
    assert.equal(judgeRegistrationId(id).verdict, 'met', `registration id ${id}`);
  for (const id of [16_384, -1, 1.5]) assert.equal(judgeRegistrationId(id).verdict, 'not-met', `registration id ${id}`);
});

void test('KEYS-REGISTRATION: every registration id a lineage generator can give is met', () => {
  // libsignal-node and Baileys both take `Uint16Array.from(randomBytes(2))[0] & 16383`, which reads
  // one random byte: 0..255. Every 14-bit value is judged, so any draw of theirs is covered.
  for (let id = 0; id <= 0x3fff; id++) assert.equal(judgeRegistrationId(id).verdict, 'met', `registration id ${id}`);
  const drawn = lineageKeyhelper.generateRegistrationId();
  assert.ok(Number.isInteger(drawn) && drawn >= 0 && drawn <= 255, `libsignal-node drew ${drawn}`);
});

interface BinaryCodec {
  encodeBinaryNode(node: { tag: string; attrs: Record<string, string> }): Buffer;
  decodeBinaryNode(buffer: Buffer): Promise<{ attrs: Record<string, string> }>;
}
const wabinary = createRequire(import.meta.url)('baileys/lib/WABinary') as BinaryCodec;
const throughBinary = async (jid: string): Promise<string | undefined> =>
  (await wabinary.decodeBinaryNode(wabinary.encodeBinaryNode({ tag: 'message', attrs: { to: jid } }))).attrs['to'];

void test("JID-USER: the jids the gatekeeper makes survive WhatsApp's binary encoding; the ones it refuses do not", async () => {
  for (const jid of [
    '1-10853634039893@interop',
    '41265890317@s.whatsapp.net',
    '120363123456789012@g.us',
    'ab+c-d@interop',
  ]) {
    assert.ok(parseJid(jid), jid);
    assert.equal(await throughBinary(jid), jid);
  }
  for (const jid of ['alice_b@interop', 'alice:2@interop']) {
    assert.equal(parseJid(jid), null, jid);
    assert.notEqual(await throughBinary(jid), jid, `${jid} is changed by the binary encoding`);
  }
  // whatsmeow's string form reads a dot as an agent separator; the profile leaves it out too.
  assert.equal(parseJid('a.b@interop'), null);
});
