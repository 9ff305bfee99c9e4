/**
 * The media scheme as streams, so that a file of any size costs constant memory: encryption turns
 * plaintext into the blob and learns its hashes on the way; decryption holds back the last 10
 * bytes (the MAC) and refuses, at the end, a blob whose hash, MAC or plaintext hash is wrong.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  timingSafeEqual,
  type Hash,
  type Hmac,
} from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { codeOf, CodedError } from '../errors.js';
import { AES_BLOCK, expandMediaKey, MAC_BYTES, MEDIA_INFO, type MediaDescriptor, type MediaType } from './scheme.js';

/** Why a blob was refused, in the receiver's order of checks. */
export type MediaRefusal = 'enc-hash' | 'mac' | 'decrypt' | 'plain-hash' | 'length' | 'truncated';

export class MediaIntegrityError extends CodedError {
  override readonly code = 'E_MEDIA_INTEGRITY';

  constructor(
    readonly refusal: MediaRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'MediaIntegrityError';
  }
}

export const isMediaIntegrityError = (e: unknown): e is MediaIntegrityError => codeOf(e) === 'E_MEDIA_INTEGRITY';

export interface EncryptOptions {
  readonly type: MediaType;
  readonly mediaKey: Uint8Array;
  /** The info string to derive with; the type's own by default. */
  readonly info?: string;
  /** HMAC over the ciphertext only, without the IV (a deliberate defect of the reference provider). */
  readonly macWithoutIv?: boolean;
}

/** Plaintext in, blob out; `result()` after the end gives the hashes and the length. */
export class MediaEncryptStream extends Transform {
  private readonly cipher;
  private readonly mac: Hmac;
  private readonly plainHash: Hash = createHash('sha256');
  private readonly blobHash: Hash = createHash('sha256');
  private plainLength = 0;
  private blobBytes = 0;
  private done: { fileSha256: Buffer; fileEncSha256: Buffer; fileLength: number; blobLength: number } | undefined;

  constructor(options: EncryptOptions) {
    super();
    const keys = expandMediaKey(options.mediaKey, options.info ?? MEDIA_INFO[options.type]);
    this.cipher = createCipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
    this.mac = createHmac('sha256', keys.macKey);
    if (!options.macWithoutIv) this.mac.update(keys.iv);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.plainHash.update(chunk);
    this.plainLength += chunk.length;
    this.emitBlob(this.cipher.update(chunk), true);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.emitBlob(this.cipher.final(), true);
    this.emitBlob(this.mac.digest().subarray(0, MAC_BYTES), false);
    this.done = {
      fileSha256: this.plainHash.digest(),
      fileEncSha256: this.blobHash.digest(),
      fileLength: this.plainLength,
      blobLength: this.blobBytes,
    };
    done();
  }

  private emitBlob(bytes: Buffer, ciphertext: boolean): void {
    if (bytes.length === 0) return;
    if (ciphertext) this.mac.update(bytes);
    this.blobHash.update(bytes);
    this.blobBytes += bytes.length;
    this.push(bytes);
  }

  result(): { fileSha256: Buffer; fileEncSha256: Buffer; fileLength: number; blobLength: number } {
    if (!this.done) throw new Error('the media stream has not ended');
    return this.done;
  }
}

export interface DecryptOptions {
  readonly type: MediaType;
  readonly descriptor: MediaDescriptor;
  readonly info?: string;
  /** Checks a receiver may skip (deliberate defects of the reference provider). */
  readonly skip?: ReadonlySet<'enc-hash' | 'mac' | 'plain-hash' | 'length'>;
  /** Take a blob with no MAC (a multiple of 16 bytes) as ciphertext only (a deliberate defect). */
  readonly macOptional?: boolean;
}

/**
 * Blob in, plaintext out. The plaintext flows before the blob is verified: a receiver must not
 * show anything until this stream has ended without an error.
 */
export class MediaDecryptStream extends Transform {
  private readonly decipher;
  private readonly mac: Hmac;
  private readonly blobHash: Hash = createHash('sha256');
  private readonly plainHash: Hash = createHash('sha256');
  private tail: Buffer = Buffer.alloc(0);
  private cipherLength = 0;
  private plainLength = 0;

  constructor(private readonly options: DecryptOptions) {
    super();
    const keys = expandMediaKey(options.descriptor.mediaKey, options.info ?? MEDIA_INFO[options.type]);
    this.decipher = createDecipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
    this.mac = createHmac('sha256', keys.macKey).update(keys.iv);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.blobHash.update(chunk);
    const all = Buffer.concat([this.tail, chunk]);
    const body = all.subarray(0, Math.max(0, all.length - MAC_BYTES));
    this.tail = Buffer.from(all.subarray(body.length));
    this.mac.update(body);
    this.cipherLength += body.length;
    this.emitPlain(this.decipher.update(body));
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      this.finish();
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  private finish(): void {
    const { descriptor, skip } = this.options;
    if (!skip?.has('enc-hash') && !this.blobHash.digest().equals(Buffer.from(descriptor.fileEncSha256))) {
      throw new MediaIntegrityError('enc-hash', 'the blob does not hash to fileEncSha256');
    }
    const noMac = this.options.macOptional === true && (this.cipherLength + this.tail.length) % AES_BLOCK === 0;
    if (noMac) {
      this.emitPlain(this.decipher.update(this.tail));
    } else if (this.tail.length < MAC_BYTES) {
      throw new MediaIntegrityError('truncated', 'the blob is shorter than its MAC');
    } else if (!skip?.has('mac') && !timingSafeEqual(this.mac.digest().subarray(0, MAC_BYTES), this.tail)) {
      throw new MediaIntegrityError('mac', 'the MAC does not verify');
    }
    try {
      this.emitPlain(this.decipher.final());
    } catch (e) {
      throw new MediaIntegrityError('decrypt', `AES-256-CBC: ${(e as Error).message}`);
    }
    if (!skip?.has('plain-hash') && !this.plainHash.digest().equals(Buffer.from(descriptor.fileSha256))) {
      throw new MediaIntegrityError('plain-hash', 'the plaintext does not hash to fileSha256');
    }
    if (!skip?.has('length') && this.plainLength !== descriptor.fileLength) {
      throw new MediaIntegrityError(
        'length',
        `the plaintext is ${this.plainLength} bytes, fileLength says ${descriptor.fileLength}`,
      );
    }
  }

  private emitPlain(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.plainHash.update(bytes);
    this.plainLength += bytes.length;
    this.push(bytes);
  }
}
