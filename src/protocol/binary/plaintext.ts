/**
 * A frame's plaintext, once the Noise channel has decrypted it: one flags byte, then the node's
 * bytes, zlib-deflated (RFC 1950) when the flags say so.
 * @see whatsmeow `binary/unpack.go` Unpack; Baileys `lib/WABinary/decode.js` decompressingIfRequired.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { beyond, CodecError, PROFILE_LIMITS, type CodecLimits } from '../codec.js';
import { codeOf } from '../errors.js';

/**
 * The flag of a deflated node: the value 2 (`2 & flags` in both lineages). Neither lineage reads
 * the other bits, and neither does this.
 */
export const COMPRESSED = 0x02;

/** The plaintext of one node: the flags byte, then its bytes as they are or deflated. */
export function packPlaintext(node: Uint8Array, options: { readonly compress?: boolean } = {}): Uint8Array {
  const body = options.compress ? deflateSync(node) : node;
  const out = new Uint8Array(body.length + 1);
  out[0] = options.compress ? COMPRESSED : 0;
  out.set(body, 1);
  return out;
}

/**
 * The node's bytes from a plaintext. Inflating stops at `maxBytes` of output, so a zlib bomb costs
 * no more than the largest element accepted: it is refused as a policy violation past that cap.
 */
export function unpackPlaintext(plaintext: Uint8Array, limits: CodecLimits = PROFILE_LIMITS): Uint8Array {
  const flags = plaintext[0];
  if (flags === undefined) throw new CodecError('not-well-formed', 'an empty plaintext has no flags byte');
  const body = plaintext.subarray(1);
  if ((flags & COMPRESSED) === 0) {
    if (body.length > limits.maxBytes) {
      throw beyond(limits, 'maxBytes', `element of ${body.length} bytes exceeds the ${limits.maxBytes}-byte limit`);
    }
    return body;
  }
  try {
    return new Uint8Array(inflateSync(body, { maxOutputLength: Math.min(limits.maxBytes, 2 ** 31 - 1) }));
  } catch (e) {
    if (codeOf(e) === 'ERR_BUFFER_TOO_LARGE') {
      throw beyond(limits, 'maxBytes', `a deflated element inflates past the ${limits.maxBytes}-byte limit`);
    }
    throw new CodecError('not-well-formed', `the deflated element does not inflate: ${(e as Error).message}`);
  }
}
