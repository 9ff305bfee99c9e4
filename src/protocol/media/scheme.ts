/**
 * The media scheme both sides share (docs/PROFILE.md §9, the WhatsApp scheme): a random 32-byte
 * media key, expanded with HKDF-SHA256 and a per-type info string into IV, cipher key, MAC key and
 * reference key; AES-256-CBC with PKCS#7 padding; HMAC-SHA256 over IV ‖ ciphertext, truncated to
 * 10 bytes and appended. The blob that travels is ciphertext ‖ mac10.
 */
import { hkdfSync, randomBytes } from 'node:crypto';

export type MediaType = 'image' | 'video' | 'audio' | 'document';
export const MEDIA_TYPES: readonly MediaType[] = ['image', 'video', 'audio', 'document'];

/** @see WhatsApp security whitepaper, "Transmitting Media"; info strings as deployed. */
export const MEDIA_INFO: Readonly<Record<MediaType, string>> = {
  image: 'WhatsApp Image Keys',
  video: 'WhatsApp Video Keys',
  audio: 'WhatsApp Audio Keys',
  document: 'WhatsApp Document Keys',
};

export const MEDIA_KEY_BYTES = 32;
export const EXPANDED_KEY_BYTES = 112;
/** Bytes of HMAC-SHA256 kept at the end of the blob. */
export const MAC_BYTES = 10;
export const AES_BLOCK = 16;

export interface MediaKeys {
  readonly iv: Buffer;
  readonly cipherKey: Buffer;
  readonly macKey: Buffer;
  /** Unused for downloads; kept so the split is the whole 112 bytes. */
  readonly refKey: Buffer;
}

export const newMediaKey = (): Buffer => randomBytes(MEDIA_KEY_BYTES);

/** HKDF-SHA256 with no salt (32 zero bytes) into 112 bytes: iv[0:16] cipherKey[16:48] macKey[48:80] refKey[80:112]. */
export function expandMediaKey(mediaKey: Uint8Array, info: string): MediaKeys {
  const out = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(32), info, EXPANDED_KEY_BYTES));
  return {
    iv: out.subarray(0, 16),
    cipherKey: out.subarray(16, 48),
    macKey: out.subarray(48, 80),
    refKey: out.subarray(80, 112),
  };
}

/** Size of the blob for a plaintext of `length` bytes: PKCS#7 always adds 1 to 16 bytes, then the MAC. */
export const blobLength = (length: number): number => (Math.floor(length / AES_BLOCK) + 1) * AES_BLOCK + MAC_BYTES;

/** What a media message declares about its blob (the public field names). */
export interface MediaDescriptor {
  readonly mediaKey: Uint8Array;
  /** SHA-256 of the plaintext. */
  readonly fileSha256: Uint8Array;
  /** SHA-256 of the blob, MAC included. */
  readonly fileEncSha256: Uint8Array;
  /** Length of the plaintext. */
  readonly fileLength: number;
}
