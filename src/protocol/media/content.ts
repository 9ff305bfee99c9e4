/**
 * Media content described in a few bytes, so that a driver request can ask for a file of any size
 * (docs/DRIVER-API.md, SendMediaRequest): the given prefix, then filler up to `size` bytes where the
 * byte at offset i is i mod 251. Both sides can produce it as a stream and hash it without holding it.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaEncryptStream, type EncryptOptions } from './stream.js';

const CHUNK = 64 * 1024;
/** A prime, so that the filler never lines up with AES blocks or powers of two. */
const FILLER_MODULUS = 251;

export function fillerByte(offset: number): number {
  return offset % FILLER_MODULUS;
}

/**
 * The filler of a whole chunk from any offset: copied from here, at the offset mod 251 (a file of
 * the limit's size is hashed on both sides). Made at the first stream, not when the module loads.
 */
let filler: Buffer | undefined;
function fillerBytes(): Buffer {
  if (filler) return filler;
  filler = Buffer.allocUnsafe(CHUNK + FILLER_MODULUS);
  for (let i = 0; i < filler.length; i++) filler[i] = fillerByte(i);
  return filler;
}

/** The content: `prefix`, then filler up to `size` bytes (or the prefix alone when `size` is smaller). */
export function contentStream(prefix: Uint8Array, size: number = prefix.length): Readable {
  let offset = 0;
  const total = Math.max(size, prefix.length);
  return new Readable({
    read() {
      if (offset >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, total - offset);
      const chunk = Buffer.allocUnsafe(n);
      const fromPrefix = Math.max(0, Math.min(n, prefix.length - offset));
      chunk.set(prefix.subarray(offset, offset + fromPrefix));
      const at = (offset + fromPrefix) % FILLER_MODULUS;
      fillerBytes().copy(chunk, fromPrefix, at, at + n - fromPrefix);
      offset += n;
      this.push(chunk);
    },
  });
}

export interface EncryptedMedia {
  readonly blob: Buffer;
  readonly fileSha256: Buffer;
  readonly fileEncSha256: Buffer;
  readonly fileLength: number;
}

/** Encrypts a whole plaintext in memory: for the small files of the cases, never for large ones. */
export async function encryptToBuffer(plaintext: Readable, options: EncryptOptions): Promise<EncryptedMedia> {
  const encrypt = new MediaEncryptStream(options);
  const chunks: Buffer[] = [];
  await pipeline(plaintext, encrypt, async (blob: AsyncIterable<Buffer>) => {
    for await (const chunk of blob) chunks.push(chunk);
  });
  const { fileSha256, fileEncSha256, fileLength } = encrypt.result();
  return { blob: Buffer.concat(chunks), fileSha256, fileEncSha256, fileLength };
}
