/**
 * Writes fixtures/media/vectors.json: the media scheme's test vectors, made once by the project's
 * own code (src/protocol/media/). test/media-scheme.test.ts checks every one of them against an
 * independent computation on node:crypto. Run: npm run build && node dist/scripts/gen-media-vectors.js
 */
import { writeFileSync } from 'node:fs';
import { projectFile } from '../src/core/paths.js';
import { contentStream, encryptToBuffer } from '../src/protocol/media/content.js';
import { expandMediaKey, MEDIA_INFO, MEDIA_TYPES } from '../src/protocol/media/scheme.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Keys 00..1f (the known answer of the domain notes), then a second fixed key. */
const KEYS = [Buffer.from(Array.from({ length: 32 }, (_, i) => i)), Buffer.alloc(32, 0xa5)];
/** Empty, the known answer's "hello", one whole block, and a file with the filler past a prefix. */
const PLAINTEXTS: { readonly prefix: Buffer; readonly size: number }[] = [
  { prefix: Buffer.alloc(0), size: 0 },
  { prefix: Buffer.from('hello'), size: 5 },
  { prefix: Buffer.from('0123456789abcdef'), size: 16 },
  { prefix: Buffer.from('%PDF-1.7\n'), size: 1000 },
];

const vectors = [];
for (const type of MEDIA_TYPES) {
  for (const mediaKey of KEYS) {
    for (const { prefix, size } of PLAINTEXTS) {
      const plain: Buffer[] = [];
      for await (const chunk of contentStream(prefix, size)) plain.push(chunk as Buffer);
      const e = await encryptToBuffer(contentStream(prefix, size), { type, mediaKey });
      const k = expandMediaKey(mediaKey, MEDIA_INFO[type]);
      vectors.push({
        type,
        info: MEDIA_INFO[type],
        mediaKey: hex(mediaKey),
        plaintext: hex(Buffer.concat(plain)),
        iv: hex(k.iv),
        cipherKey: hex(k.cipherKey),
        macKey: hex(k.macKey),
        refKey: hex(k.refKey),
        blob: hex(e.blob),
        fileSha256: e.fileSha256.toString('base64'),
        fileEncSha256: e.fileEncSha256.toString('base64'),
        fileLength: e.fileLength,
      });
    }
  }
}
const doc = {
  description:
    'WhatsApp media scheme (docs/PROFILE.md §9): HKDF-SHA256(mediaKey, salt 32 zero bytes, info, 112) → iv ‖ cipherKey ‖ macKey ‖ refKey; blob = AES-256-CBC(PKCS#7) ‖ HMAC-SHA256(macKey, iv ‖ ciphertext)[0:10]. Hex, hashes in base64.',
  vectors,
};
writeFileSync(projectFile('fixtures', 'media', 'vectors.json'), `${JSON.stringify(doc, null, 2)}\n`);
console.log(`${vectors.length} vectors written`);
