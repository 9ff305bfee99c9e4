/**
 * Strict base64 for binary stanza content (RFC 4648 §4, padded) and for the enlistment form
 * (RFC 4648 §5, unpadded). Node's own decoder skips bad characters; a conformance harness must not.
 */
// A character class and the length, not a repeated group: V8 runs out of stack on a group repeated
// over megabytes (a 4 MiB ciphertext is 5.6 million characters). The round trip below is the rest.
const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_UNPADDED = /^[A-Za-z0-9_-]*$/;

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Returns null when `s` is not canonical padded base64. */
export function fromBase64(s: string): Uint8Array | null {
  if (s.length % 4 !== 0 || !STD.test(s)) return null;
  const bytes = Buffer.from(s, 'base64');
  return toBase64(bytes) === s ? new Uint8Array(bytes) : null;
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** Returns null when `s` is not canonical unpadded base64url. */
export function fromBase64Url(s: string): Uint8Array | null {
  if (!URL_UNPADDED.test(s) || s.length % 4 === 1) return null;
  const bytes = Buffer.from(s, 'base64url');
  return toBase64Url(bytes) === s ? new Uint8Array(bytes) : null;
}
