/**
 * What the gatekeeper's media proxy learns from a blob as it streams through: its SHA-256, whether
 * its MAC verifies, and the SHA-256, length and first bytes of what it decrypts to. Written
 * directly on node:crypto, apart from the scheme the two sides share (src/protocol/media/), so
 * that a bug in the shared code cannot make a check agree with a provider that has the same bug.
 * Memory stays constant: only the last 10 bytes are held back.
 */
import { createDecipheriv, createHash, createHmac, hkdfSync, type Hmac } from 'node:crypto';
import { Writable } from 'node:stream';
import type { MediaVerdict } from './media-types.js';

/** @see WhatsApp security whitepaper, "Transmitting Media": the blob ends in HMAC-SHA256 truncated to 10 bytes. */
const TRUNCATED_MAC = 10;
const HEAD_BYTES = 64;

interface Derived {
  readonly info: string;
  readonly mac: Hmac;
}

function derive(mediaKey: Uint8Array, info: string): { iv: Buffer; cipherKey: Buffer; macKey: Buffer } {
  const okm = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(32), Buffer.from(info, 'utf8'), 112));
  return { iv: okm.subarray(0, 16), cipherKey: okm.subarray(16, 48), macKey: okm.subarray(48, 80) };
}

/**
 * A sink for the blob. It decrypts with the keys of `infos[0]` and checks the MAC under every info
 * string in `infos`, so that a blob keyed for another media type can be named as such.
 */
export class MediaVerifier extends Writable {
  private readonly blobHash = createHash('sha256');
  private readonly plainHash = createHash('sha256');
  private readonly decipher;
  private readonly macs: Derived[];
  private held = Buffer.alloc(0);
  private blobBytes = 0;
  private plainLength = 0;
  private head = Buffer.alloc(0);
  private verdict: MediaVerdict | undefined;

  constructor(mediaKey: Uint8Array, infos: readonly string[]) {
    super();
    const keys = infos.map((info) => ({ info, ...derive(mediaKey, info) }));
    const first = keys[0];
    if (!first) throw new Error('no info string to derive with');
    this.decipher = createDecipheriv('aes-256-cbc', first.cipherKey, first.iv);
    this.macs = keys.map((k) => ({ info: k.info, mac: createHmac('sha256', k.macKey).update(k.iv) }));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error | null) => void): void {
    this.blobHash.update(chunk);
    this.blobBytes += chunk.length;
    // The last 10 bytes seen may be the MAC: they are held back until more arrive. A large chunk
    // is not copied to join them: what was held goes first, then the chunk but its last 10 bytes.
    if (chunk.length >= TRUNCATED_MAC) {
      this.cipher(this.held);
      this.cipher(chunk.subarray(0, chunk.length - TRUNCATED_MAC));
      this.held = Buffer.from(chunk.subarray(chunk.length - TRUNCATED_MAC));
    } else {
      const joined = Buffer.concat([this.held, chunk]);
      const cut = Math.max(0, joined.length - TRUNCATED_MAC);
      this.cipher(joined.subarray(0, cut));
      this.held = Buffer.from(joined.subarray(cut));
    }
    done();
  }

  /** Ciphertext for the MACs and the decipher. */
  private cipher(bytes: Buffer): void {
    if (bytes.length === 0) return;
    for (const m of this.macs) m.mac.update(bytes);
    this.plain(this.decipher.update(bytes));
  }

  override _final(done: (e?: Error | null) => void): void {
    let decryptError: string | undefined;
    try {
      this.plain(this.decipher.final());
    } catch (e) {
      decryptError = (e as Error).message;
    }
    const tag = this.held;
    const macVerifiesUnder = this.macs
      .filter((m) => tag.length === TRUNCATED_MAC && m.mac.digest().subarray(0, TRUNCATED_MAC).equals(tag))
      .map((m) => m.info);
    this.verdict = {
      blobBytes: this.blobBytes,
      encSha256: this.blobHash.digest(),
      macVerifiesUnder,
      ...(decryptError === undefined ? {} : { decryptError }),
      plainSha256: this.plainHash.digest(),
      plainLength: this.plainLength,
      head: this.head,
    };
    done();
  }

  private plain(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.plainHash.update(bytes);
    this.plainLength += bytes.length;
    if (this.head.length < HEAD_BYTES)
      this.head = Buffer.concat([this.head, bytes.subarray(0, HEAD_BYTES - this.head.length)]);
  }

  /** The verdict, once the blob has ended. */
  result(): MediaVerdict {
    if (!this.verdict) throw new Error('the blob has not ended');
    return this.verdict;
  }
}
