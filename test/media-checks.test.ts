/**
 * The media checks' judgements on their own: MEDIA-KEYS for each media type on a blob the harness
 * really decrypts (the gatekeeper's verifier, fed a blob made under one type's keys or another's),
 * MEDIA-MAC leaving the info string to MEDIA-KEYS, MEDIA-RECEIVE on what the driver says the user
 * was shown, and MEDIA-RANGE on each way a range answer can be wrong. Inputs are fixed bytes, so
 * every run sees the same.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { encryptMedia, hashOf } from '../src/checks/media/encrypt.js';
import { judgeRange } from '../src/checks/media/fetch.js';
import { judgeKeys, judgeMac } from '../src/checks/media/integrity.js';
import { judgeShown } from '../src/checks/media/receive.js';
import { verifyInfos } from '../src/checks/media/scenario.js';
import { LAYOUTS } from '../src/checks/media/wire-fields.js';
import type { Finding } from '../src/core/model.js';
import { MediaVerifier } from '../src/gatekeeper/media-verifier.js';
import type { MediaVerdict } from '../src/gatekeeper/types.js';
import { MEDIA_TYPES, type MediaType } from '../src/protocol/media/scheme.js';

const plaintext = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) % 256));
const mediaKey = Buffer.alloc(32, 0x5a);

/** The verdict the proxy reaches on a blob keyed with `info`, verified as a file of `type` (its own info first). */
async function verdictOn(type: MediaType, info: string, infos = verifyInfos(type)): Promise<MediaVerdict> {
  const { blob } = encryptMedia(plaintext, info, mediaKey);
  const verifier = new MediaVerifier(mediaKey, infos);
  await pipeline(Readable.from([blob.subarray(0, 1000), blob.subarray(1000)]), verifier);
  return verifier.result();
}

const actual = (f: Finding): string => (f.verdict === 'not-met' ? f.actual : `(${f.verdict})`);

void test('MEDIA-KEYS: each type is met under its own info string and decrypts to the file sent', async () => {
  for (const type of MEDIA_TYPES) {
    const v = await verdictOn(type, LAYOUTS[type].info);
    assert.deepEqual(judgeKeys(v, type, hashOf(plaintext)), { verdict: 'met' }, type);
  }
});

void test("MEDIA-KEYS: each type keyed with another type's info string fails, naming that string", async () => {
  for (const type of MEDIA_TYPES) {
    for (const other of MEDIA_TYPES.filter((t) => t !== type)) {
      const v = await verdictOn(type, LAYOUTS[other].info);
      const f = judgeKeys(v, type, hashOf(plaintext));
      assert.equal(f.verdict, 'not-met', `${type} under ${other}'s keys`);
      assert.equal(actual(f), `a blob whose MAC verifies only under keys derived with "${LAYOUTS[other].info}"`);
    }
  }
});

void test('MEDIA-KEYS: an info string of no media type verifies under none, and the blob does not decrypt', async () => {
  const f = judgeKeys(await verdictOn('image', 'WhatsApp Images Keys'), 'image', hashOf(plaintext));
  assert.equal(f.verdict, 'not-met');
  assert.match(actual(f), /^a blob whose MAC verifies under no media type's keys/);
});

void test('MEDIA-KEYS: a blob under the right keys that decrypts to another file than the one sent fails', async () => {
  const v = await verdictOn('video', LAYOUTS.video.info);
  const f = judgeKeys(v, 'video', hashOf(Buffer.from('another file')));
  assert.equal(f.verdict, 'not-met');
  assert.match(actual(f), /^a blob that verifies under "WhatsApp Video Keys" but decrypts to 3000 bytes hashing to/);
  // Without the file sent (the lineage test), the keys alone are judged.
  assert.deepEqual(judgeKeys(v, 'video'), { verdict: 'met' });
});

void test("MEDIA-MAC: a MAC computed as the scheme says is met under another type's keys, and leaves those to MEDIA-KEYS", async () => {
  const v = await verdictOn('document', LAYOUTS.image.info);
  assert.deepEqual(judgeMac(v, 'document'), {
    verdict: 'met',
    note: 'the MAC verifies under the keys of "WhatsApp Image Keys" (MEDIA-KEYS judges which)',
  });
  const flipped = await verdictOn('document', 'not a media type');
  assert.equal(judgeMac(flipped, 'document').verdict, 'not-met');
});

void test('MEDIA-RECEIVE: the entry shown must be the file sent, by type, mimetype, length and SHA-256', () => {
  const sha256 = hashOf(plaintext).toString('base64');
  const about = {
    variant: 'valid' as const,
    type: 'video' as const,
    id: 'M1',
    peer: 'g@s.whatsapp.net',
    expectedHash: sha256,
    expectedLength: plaintext.length,
    expectedMimetype: 'video/mp4; codecs="avc1.42E01E"',
  };
  const mimetype = about.expectedMimetype;
  const shown = (
    media: { type: MediaType; mimetype?: string; fileLength: number; sha256: string },
    from = about.peer,
  ) => ({
    media: { mimetype, ...media },
    from,
  });
  assert.deepEqual(judgeShown(about, shown({ type: 'video', fileLength: 3000, sha256 }), undefined), {
    verdict: 'met',
  });
  assert.equal(
    actual(judgeShown(about, shown({ type: 'image', fileLength: 3000, sha256 }), undefined)),
    'an entry with type image',
  );
  assert.equal(
    actual(judgeShown(about, shown({ type: 'video', fileLength: 2999, sha256: 'x' }), undefined)),
    'an entry with fileLength 2999, sha256 x',
  );
  // Byte for byte: a mimetype shown without its parameters is not the one the message declared.
  assert.equal(
    actual(judgeShown(about, shown({ type: 'video', mimetype: 'video/mp4', fileLength: 3000, sha256 }), undefined)),
    'an entry with mimetype video/mp4, not video/mp4; codecs="avc1.42E01E"',
  );

  assert.equal(
    actual(judgeShown(about, shown({ type: 'video', fileLength: 3000, sha256 }, '120363000000000001@g.us'), undefined)),
    'an entry with from 120363000000000001@g.us',
  );
  assert.equal(actual(judgeShown(about, { media: undefined, from: about.peer }, undefined)), 'an entry with no media');
  assert.equal(
    actual(judgeShown(about, undefined, 'media: the MAC does not verify')),
    'nothing shown; event decryption-failure: media: the MAC does not verify',
  );
});

void test('MEDIA-RANGE: every part of a wrong range answer is named, and a body that stops is a failure, not an error', () => {
  const blob = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const ask = { header: 'bytes=10-19', start: 10, end: 19 };
  const answer = (more: Partial<Parameters<typeof judgeRange>[1]>) => ({
    status: 206,
    headers: { 'content-range': 'bytes 10-19/100', 'content-length': '10' },
    bytes: 10,
    body: blob.subarray(10, 20),
    ...more,
  });
  const saw = (more: Partial<Parameters<typeof judgeRange>[1]>): string => actual(judgeRange(ask, answer(more), blob));
  assert.deepEqual(judgeRange(ask, answer({}), blob), { verdict: 'met' });
  assert.equal(saw({ status: 200, bytes: 100, body: blob, headers: {} }), 'HTTP 200 with 100 bytes, the whole blob');
  assert.equal(saw({ headers: { 'content-length': '10' } }), '206 with no Content-Range');
  assert.equal(
    saw({ headers: { 'content-range': 'bytes 10-19' } }),
    '206 with Content-Range: bytes 10-19, not of the form bytes first-last/length',
  );
  assert.equal(
    saw({ headers: { 'content-range': 'bytes 10-19/116' } }),
    "206 with Content-Range: bytes 10-19/116, whose length 116, not the blob's 100",
  );
  assert.equal(
    saw({ headers: { 'content-range': 'bytes 11-18/100' } }),
    '206 with Content-Range: bytes 11-18/100, whose first byte 11, not 10, last byte 18, not 19',
  );
  assert.equal(
    saw({ bytes: 5, body: blob.subarray(10, 15), error: 'other side closed' }),
    '206 with a body that stopped after 5 bytes of the 10 its Content-Length promised: other side closed',
  );
  assert.equal(saw({ body: blob.subarray(11, 21) }), "206 with 10 bytes that are not the blob's 10-19");
  const { status: _none, ...unanswered } = answer({ error: 'connection reset' });
  assert.equal(actual(judgeRange(ask, unanswered, blob)), 'no answer: connection reset');
  assert.equal(saw({ refused: 'more than 3 redirects' }), 'an answer the proxy would not take: more than 3 redirects');
});
