/**
 * Properties of the media scheme: any plaintext, of any type, chunked any way, round-trips
 * encrypt → decrypt; any change to the blob (ciphertext, MAC, length) or to what the message
 * declares (media key, hashes, length, type) is refused by the receiver's decryption
 * (src/protocol/media/stream.ts) with a MediaIntegrityError, and never passes the gatekeeper's
 * independent verifier (src/gatekeeper/media-verifier.ts). fast-check prints the seed on failure.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import './helpers/props-seed.js';
import { MediaVerifier } from '../src/gatekeeper/media-verifier.js';
import type { MediaVerdict } from '../src/gatekeeper/types.js';
import { encryptToBuffer, type EncryptedMedia } from '../src/protocol/media/content.js';
import {
  MEDIA_INFO,
  MEDIA_KEY_BYTES,
  MEDIA_TYPES,
  type MediaDescriptor,
  type MediaType,
} from '../src/protocol/media/scheme.js';
import { isMediaIntegrityError, MediaDecryptStream, type MediaRefusal } from '../src/protocol/media/stream.js';

interface Sample {
  readonly type: MediaType;
  readonly mediaKey: Buffer;
  readonly plaintext: Buffer;
  readonly media: EncryptedMedia;
}

const sample: fc.Arbitrary<Promise<Sample>> = fc
  .record({
    type: fc.constantFrom(...MEDIA_TYPES),
    mediaKey: fc.uint8Array({ minLength: MEDIA_KEY_BYTES, maxLength: MEDIA_KEY_BYTES }).map((b) => Buffer.from(b)),
    plaintext: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  })
  .map(async (s) => ({
    ...s,
    media: await encryptToBuffer(Readable.from([s.plaintext]), { type: s.type, mediaKey: s.mediaKey }),
  }));

/** Where to cut a blob into chunks, as a network would. */
const cuts = fc.array(fc.nat({ max: 4096 }), { maxLength: 6 });

function chunked(blob: Buffer, at: readonly number[]): Buffer[] {
  const points = [...new Set(at.map((i) => i % (blob.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, blob.length]) {
    if (p > from) out.push(blob.subarray(from, p));
    from = Math.max(from, p);
  }
  return out;
}

const descriptorOf = (s: Sample): MediaDescriptor => ({
  mediaKey: s.mediaKey,
  fileSha256: s.media.fileSha256,
  fileEncSha256: s.media.fileEncSha256,
  fileLength: s.media.fileLength,
});

/** The receiver's decryption: the plaintext, or the refusal (any other error fails the property). */
async function decrypt(
  blob: Buffer,
  descriptor: MediaDescriptor,
  type: MediaType,
  at: readonly number[],
): Promise<Buffer | MediaRefusal> {
  const out: Buffer[] = [];
  try {
    await pipeline(
      Readable.from(chunked(blob, at)),
      new MediaDecryptStream({ type, descriptor }),
      new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) }),
    );
  } catch (e) {
    assert.ok(isMediaIntegrityError(e), `not a MediaIntegrityError: ${String(e)}`);
    return e.refusal;
  }
  return Buffer.concat(out);
}

async function verify(blob: Buffer, mediaKey: Buffer, type: MediaType, at: readonly number[]): Promise<MediaVerdict> {
  const verifier = new MediaVerifier(mediaKey, [
    MEDIA_INFO[type],
    ...MEDIA_TYPES.filter((t) => t !== type).map((t) => MEDIA_INFO[t]),
  ]);
  await pipeline(Readable.from(chunked(blob, at)), verifier);
  return verifier.result();
}

/** What a check needs to accept a blob against its declaration: every one of these holds. */
function verifierAccepts(v: MediaVerdict, d: MediaDescriptor, type: MediaType): boolean {
  return (
    v.encSha256.equals(Buffer.from(d.fileEncSha256)) &&
    v.macVerifiesUnder[0] === MEDIA_INFO[type] &&
    v.decryptError === undefined &&
    v.plainSha256.equals(Buffer.from(d.fileSha256)) &&
    v.plainLength === d.fileLength
  );
}

void test('any plaintext of any type, cut anywhere, round-trips encrypt → decrypt and passes the verifier', async () => {
  await fc.assert(
    fc.asyncProperty(sample, cuts, async (pending, at) => {
      const s = await pending;
      assert.deepEqual(await decrypt(s.media.blob, descriptorOf(s), s.type, at), s.plaintext);
      const verdict = await verify(s.media.blob, s.mediaKey, s.type, at);
      assert.ok(verifierAccepts(verdict, descriptorOf(s), s.type));
      assert.ok(verdict.head.equals(s.plaintext.subarray(0, verdict.head.length)));
    }),
    { numRuns: 150 },
  );
});

/** One change to the blob: a flipped bit anywhere (ciphertext or MAC), a cut, or bytes added. */
const blobMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
);

function mutateBlob(blob: Buffer, m: typeof blobMutation extends fc.Arbitrary<infer T> ? T : never): Buffer {
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(blob);
      const i = m.at % out.length;
      out[i] = (out[i] as number) ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return blob.subarray(0, m.keep % blob.length);
    case 'append':
      return Buffer.concat([blob, m.extra]);
  }
}

void test('a changed blob is refused by the receiver and never passes the verifier, whatever the chunking', async () => {
  await fc.assert(
    fc.asyncProperty(sample, blobMutation, cuts, async (pending, m, at) => {
      const s = await pending;
      const bad = mutateBlob(s.media.blob, m);
      assert.equal(typeof (await decrypt(bad, descriptorOf(s), s.type, at)), 'string', `accepted after ${m.kind}`);
      const verdict = await verify(bad, s.mediaKey, s.type, at);
      assert.ok(!verifierAccepts(verdict, descriptorOf(s), s.type), `the verifier accepts after ${m.kind}`);
      assert.deepEqual(verdict.macVerifiesUnder, [], `the MAC verifies after ${m.kind}`);
    }),
    { numRuns: 300 },
  );
});

/** One change to what the message declares: key (hence IV and keys), either hash, length, or type. */
const declarationMutation = fc.oneof(
  fc.record({
    field: fc.constantFrom('mediaKey' as const, 'fileSha256' as const, 'fileEncSha256' as const),
    at: fc.nat({ max: 31 }),
    bit: fc.nat({ max: 7 }),
  }),
  fc.record({
    field: fc.constant('fileLength' as const),
    delta: fc.integer({ min: -5000, max: 5000 }).filter((d) => d !== 0),
  }),
  fc.record({ field: fc.constant('type' as const), shift: fc.integer({ min: 1, max: MEDIA_TYPES.length - 1 }) }),
);

void test('a changed declaration (key, hashes, length or media type) is refused by the receiver and the verifier', async () => {
  await fc.assert(
    fc.asyncProperty(sample, declarationMutation, cuts, async (pending, m, at) => {
      const s = await pending;
      let d = descriptorOf(s);
      let type = s.type;
      if (m.field === 'fileLength')
        d = { ...d, fileLength: d.fileLength + m.delta < 0 ? d.fileLength - m.delta : d.fileLength + m.delta };
      else if (m.field === 'type')
        type = MEDIA_TYPES[(MEDIA_TYPES.indexOf(s.type) + m.shift) % MEDIA_TYPES.length] as MediaType;
      else {
        const bytes = Buffer.from(d[m.field]);
        bytes[m.at] = (bytes[m.at] as number) ^ (1 << m.bit);
        d = { ...d, [m.field]: bytes };
      }
      assert.equal(typeof (await decrypt(s.media.blob, d, type, at)), 'string', `accepted with a changed ${m.field}`);
      assert.ok(
        !verifierAccepts(await verify(s.media.blob, Buffer.from(d.mediaKey), type, at), d, type),
        `the verifier accepts a changed ${m.field}`,
      );
    }),
    { numRuns: 300 },
  );
});
