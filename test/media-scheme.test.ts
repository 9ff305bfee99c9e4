/**
 * The media scheme: the shipped vectors (made by src/protocol/media/) against an independent
 * computation on node:crypto and the domain notes' known answer; the streaming decryption refusing
 * each corruption for its own reason, whatever the chunking; and the media message layouts of
 * proto/message.proto against the profile's table of field numbers.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { LAYOUTS, readDeclared } from '../src/checks/media/wire-fields.js';
import { projectFile } from '../src/core/paths.js';
import { contentStream, encryptToBuffer } from '../src/protocol/media/content.js';
import { encodeMediaMessage } from '../src/protocol/media/message.js';
import { MEDIA_TYPES, type MediaType } from '../src/protocol/media/scheme.js';
import { MediaDecryptStream, type MediaRefusal } from '../src/protocol/media/stream.js';

interface Vector {
  type: MediaType;
  info: string;
  mediaKey: string;
  plaintext: string;
  iv: string;
  cipherKey: string;
  macKey: string;
  refKey: string;
  blob: string;
  fileSha256: string;
  fileEncSha256: string;
  fileLength: number;
}

const { vectors } = JSON.parse(readFileSync(projectFile('fixtures', 'media', 'vectors.json'), 'utf8')) as {
  vectors: Vector[];
};
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('base64');

void test('every shipped vector agrees with node:crypto computed here', () => {
  assert.equal(vectors.length, 32);
  for (const v of vectors) {
    const okm = Buffer.from(hkdfSync('sha256', hex(v.mediaKey), Buffer.alloc(32), v.info, 112));
    assert.equal(okm.toString('hex'), v.iv + v.cipherKey + v.macKey + v.refKey, `${v.type} keys`);
    const cipher = createCipheriv('aes-256-cbc', okm.subarray(16, 48), okm.subarray(0, 16));
    const ct = Buffer.concat([cipher.update(hex(v.plaintext)), cipher.final()]);
    const mac = createHmac('sha256', okm.subarray(48, 80))
      .update(okm.subarray(0, 16))
      .update(ct)
      .digest()
      .subarray(0, 10);
    const blob = Buffer.concat([ct, mac]);
    assert.equal(blob.toString('hex'), v.blob, `${v.type} blob`);
    assert.equal(sha256(hex(v.plaintext)), v.fileSha256);
    assert.equal(sha256(blob), v.fileEncSha256);
    assert.equal(hex(v.plaintext).length, v.fileLength);
  }
});

void test('the domain notes\' known answer: key 00..1f, "hello", image', () => {
  const v = vectors.find(
    (x) =>
      x.type === 'image' && x.plaintext === Buffer.from('hello').toString('hex') && x.mediaKey.startsWith('000102'),
  );
  assert.ok(v);
  assert.equal(v.iv, 'aa6a127218397cbd2383e4ccf7176a79');
  assert.ok(v.cipherKey.startsWith('008c9aea9b7c5d81'));
  assert.ok(v.macKey.startsWith('91d09ffec108833c'));
  assert.equal(v.blob, 'd6dae84a388d36554b4babc2ea10204a9971f756a2561f9b8f20');
  assert.equal(v.fileSha256, 'LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=');
  assert.equal(v.fileEncSha256, 'dVMJ7QPDvHITbRV5mU2zBy/4u8sGrbNlpAzQrAu9Nb0=');
});

/** Feeds the blob in `chunk`-byte pieces; resolves with the plaintext or the refusal. */
async function decrypt(
  v: Vector,
  blob: Buffer,
  chunk: number,
  change: Partial<{ mediaKey: Buffer; fileSha256: Buffer; fileEncSha256: Buffer }> = {},
): Promise<Buffer | MediaRefusal> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < blob.length; i += chunk) pieces.push(blob.subarray(i, i + chunk));
  const out: Buffer[] = [];
  const descriptor = {
    mediaKey: change.mediaKey ?? hex(v.mediaKey),
    fileSha256: change.fileSha256 ?? Buffer.from(v.fileSha256, 'base64'),
    fileEncSha256: change.fileEncSha256 ?? Buffer.from(v.fileEncSha256, 'base64'),
    fileLength: v.fileLength,
  };
  try {
    await pipeline(
      Readable.from(pieces),
      new MediaDecryptStream({ type: v.type, descriptor }),
      new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) }),
    );
    return Buffer.concat(out);
  } catch (e) {
    return (e as { refusal: MediaRefusal }).refusal;
  }
}

void test('the streaming decryption takes every vector in any chunking and refuses each corruption for its reason', async () => {
  for (const v of vectors) {
    for (const chunk of [1, 7, 16, 4096])
      assert.equal((await decrypt(v, hex(v.blob), chunk)).toString(), hex(v.plaintext).toString());
  }
  const v = vectors.find((x) => x.type === 'document' && x.fileLength === 1000) as Vector;
  const blob = hex(v.blob);
  const flipped = Buffer.from(blob);
  flipped[flipped.length - 1] = (flipped.at(-1) as number) ^ 1;
  assert.equal(await decrypt(v, flipped, 100, { fileEncSha256: createHash('sha256').update(flipped).digest() }), 'mac');
  assert.equal(await decrypt(v, blob, 100, { fileEncSha256: Buffer.alloc(32) }), 'enc-hash');
  assert.equal(await decrypt(v, blob, 100, { fileSha256: Buffer.alloc(32) }), 'plain-hash');
  assert.equal(await decrypt(v, blob, 100, { mediaKey: Buffer.alloc(32, 1) }), 'mac');
  const cut = blob.subarray(0, 5);
  assert.equal(await decrypt(v, cut, 100, { fileEncSha256: createHash('sha256').update(cut).digest() }), 'truncated');
});

void test("media messages carry their fields at the profile's numbers for every type", async () => {
  for (const type of MEDIA_TYPES) {
    const e = await encryptToBuffer(contentStream(Buffer.from('x'), 10), { type, mediaKey: Buffer.alloc(32, 2) });
    const bytes = encodeMediaMessage(type, {
      url: 'https://media.test/a',
      directPath: '/interop/whatsapp/download/p/a/',
      mimetype: 'application/pdf',
      mediaKey: Buffer.alloc(32, 2),
      fileSha256: e.fileSha256,
      fileEncSha256: e.fileEncSha256,
      fileLength: e.fileLength,
      fileName: 'a.pdf',
    });
    const d = readDeclared(bytes, type);
    if (typeof d === 'string') assert.fail(`${type}: ${d}`);
    assert.equal(bytes[0], (LAYOUTS[type].message << 3) | 2);
    assert.deepEqual(Buffer.from(d.mediaKey ?? []), Buffer.alloc(32, 2));
    assert.deepEqual(Buffer.from(d.fileEncSha256 ?? []), e.fileEncSha256);
    assert.equal(d.fileLength, 10);
    assert.equal(d.directPath, '/interop/whatsapp/download/p/a/');
    if (type === 'document') assert.equal(d.fileName, 'a.pdf');
  }
});
