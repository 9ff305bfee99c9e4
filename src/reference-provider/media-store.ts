/**
 * The provider's store of encrypted blobs that its users uploaded, by storage reference. The
 * reference is the only secret in a media URL (MEDIA-REFERENCE), so it is 256 random bits.
 */
import { randomBytes } from 'node:crypto';
import type { FaultSet } from './faults.js';

export interface StoredBlob {
  readonly blob: Buffer;
  /** The plaintext's type, which the host never needs (MEDIA-CONTENT-TYPE) but a faulty one serves. */
  readonly mimetype: string;
  expired: boolean;
}

export class MediaStore {
  private readonly blobs = new Map<string, StoredBlob>();
  private counter = 0;

  constructor(private readonly faults: FaultSet) {}

  /**
   * Keeps an uploaded blob; returns its storage reference. Only the `media-reference-file-hash`
   * fault passes a `name`, which stores the blob there over any blob held under it.
   */
  put(blob: Buffer, mimetype: string, name?: string): string {
    const reference = this.faults.has('media-counter-reference')
      ? String(++this.counter).padStart(24, '0')
      : (name ?? randomBytes(32).toString('base64url'));
    this.blobs.set(reference, { blob, mimetype, expired: false });
    return reference;
  }

  get(reference: string): StoredBlob | undefined {
    // The fault matches a reference whatever the case of its letters, as a case-insensitive key column would.
    if (this.faults.has('media-reference-any-case'))
      return [...this.blobs].find(([held]) => held.toLowerCase() === reference.toLowerCase())?.[1];
    return this.blobs.get(reference);
  }

  /** The driver's `POST /media/expire`: every blob so far is past its time to live. */
  expireAll(): void {
    for (const stored of this.blobs.values()) stored.expired = true;
  }

  clear(): void {
    this.blobs.clear();
  }
}
