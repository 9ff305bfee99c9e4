/**
 * fixtures/stanzas/ holds the profile's stanzas as they travel on the chat channel: the examples a
 * provider's engineers compare against. Each one must decode, and the shared builders must write it
 * byte for byte from the same inputs, so neither can drift from the other unnoticed.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { projectFile } from '../src/core/paths.js';
import { fromBase64 } from '../src/protocol/base64.js';
import { ENC_MEDIATYPE } from '../src/protocol/media/enc-mediatype.js';
import type { StanzaNode } from '../src/protocol/node.js';
import * as S from '../src/protocol/stanzas.js';
import { xmlCodec } from '../src/protocol/xml-codec.js';

const bytes = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const LOGIN = '4915112345678@interop';
const ID = '3EB0A1B2C3D4E5F6';
const keys = {
  registrationId: 4242,
  identityKey: bytes(32),
  signedPreKey: { id: 1, publicKey: bytes(32, 32), signature: bytes(64, 64) },
};

const BUILT: Record<string, StanzaNode> = {
  'open.xml': S.clientOpen(LOGIN, 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', 'n2IvHhuuFS-u1IPzKJ3Udj8dtmhQmW8k9_x4Mw0OWgI'),
  'close.xml': S.closeElement(),
  'message-outgoing.xml': S.outgoingMessage(ID, LOGIN, 1795468233, S.encElement('pkmsg', bytes(24))),
  'message-voice-note-outgoing.xml': S.outgoingMessage(
    ID,
    LOGIN,
    1795468233,
    S.encElement('msg', bytes(24, 200), ENC_MEDIATYPE['voice-note']),
  ),
  'message-delivered.xml': S.deliveredMessage(ID, LOGIN, 1795468233, S.encElement('msg', bytes(24, 100))),
  'ack-message.xml': S.ack({ class: 'message', id: ID, to: LOGIN }),
  'ack-error.xml': S.ack({ class: 'message', id: ID, error: 'bad-request' }),
  'receipt-delivery.xml': S.receipt({ id: ID, to: LOGIN, t: '1795468234' }),
  'receipt-read.xml': S.receipt({ id: ID, to: LOGIN, t: '1795468240', type: 'read' }),
  'iq-ping.xml': S.pingIq('ping-0001', LOGIN),
  'iq-prekey-upload.xml': S.preKeyUploadIq('keys-0001', {
    ...keys,
    oneTimePreKeys: [
      { id: 2, publicKey: bytes(32, 128) },
      { id: 3, publicKey: bytes(32, 160) },
    ],
  }),
  'iq-bundle-fetch.xml': S.bundleFetchIq('keys-0002', LOGIN),
  'iq-bundle-result.xml': S.bundleResultIq('keys-0002', {
    jid: LOGIN,
    ...keys,
    oneTimePreKey: { id: 2, publicKey: bytes(32, 128) },
  }),
  'stream-error.xml': S.streamError('not-authorized', 'the ownership proof did not verify'),
};

const dir = projectFile('fixtures', 'stanzas');
const fixture = async (name: string): Promise<string> => (await readFile(`${dir}/${name}`, 'utf8')).trimEnd();

void test('every stanza fixture has a builder, and every builder a fixture', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.xml')).sort();
  assert.deepEqual(files, Object.keys(BUILT).sort());
});

void test('the builders write each fixture byte for byte, and the codec reads it back', async () => {
  for (const [name, built] of Object.entries(BUILT)) {
    const text = await fixture(name);
    assert.equal(xmlCodec.encode(built), text, name);
    assert.deepEqual(xmlCodec.decode(text), xmlCodec.decode(xmlCodec.encode(built)), name);
  }
});

void test('the readers recover the keys from the upload and bundle fixtures', async () => {
  const upload = S.readPreKeyUpload(xmlCodec.decode(await fixture('iq-prekey-upload.xml')));
  assert.equal(upload?.registrationId, 4242);
  assert.deepEqual(
    upload?.oneTimePreKeys.map((k) => k.id),
    [2, 3],
  );
  assert.deepEqual(upload?.signedPreKey.signature, keys.signedPreKey.signature);
  const bundle = S.readBundleResult(xmlCodec.decode(await fixture('iq-bundle-result.xml')));
  assert.equal(bundle?.jid, LOGIN);
  assert.equal(bundle?.oneTimePreKey?.id, 2);
  assert.deepEqual(bundle?.identityKey, keys.identityKey);
});

/** Elements whose text is words for a person, never bytes. */
const TEXTUAL = new Set(['text']);

void test("the table of binary elements (BINARY_CONTENT) names exactly the fixtures' elements whose text is bytes", async () => {
  const walk = (n: StanzaNode, parent: string | undefined, name: string): void => {
    if (n.text !== undefined) {
      const binary = S.hasBinaryContent(n.tag, parent);
      assert.equal(binary, !TEXTUAL.has(n.tag), `${name}: <${n.tag}> under <${parent ?? ''}>`);
      if (binary) assert.ok(fromBase64(n.text), `${name}: <${n.tag}> holds canonical base64`);
    }
    for (const c of n.children) walk(c, n.tag, name);
  };
  for (const name of Object.keys(BUILT)) walk(xmlCodec.decode(await fixture(name)), undefined, name);
});
