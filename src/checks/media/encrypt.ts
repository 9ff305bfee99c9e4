/**
 * The gatekeeper's side of the media scheme for files it sends, written on node:crypto apart from
 * the shared scheme (src/protocol/media/), so that a provider's client is checked against an
 * independent encryption, not one that shares its bugs.
 */
import { createCipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface EncryptedMedia {
  readonly mediaKey: Buffer;
  readonly blob: Buffer;
  readonly fileSha256: Buffer;
  readonly fileEncSha256: Buffer;
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** AES-256-CBC under HKDF-SHA256(mediaKey, info) keys, then HMAC-SHA256(IV ‖ ciphertext) cut to 10 bytes. */
export function encryptMedia(plaintext: Buffer, info: string, mediaKey: Buffer = randomBytes(32)): EncryptedMedia {
  const okm = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(32), Buffer.from(info, 'utf8'), 112));
  const [iv, cipherKey, macKey] = [okm.subarray(0, 16), okm.subarray(16, 48), okm.subarray(48, 80)];
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, 10);
  const blob = Buffer.concat([ciphertext, mac]);
  return { mediaKey, blob, fileSha256: sha256(plaintext), fileEncSha256: sha256(blob) };
}

export const hashOf = sha256;
