/**
 * The certification package's manifest (schemas/certification-manifest.schema.json, format in
 * docs/CERTIFICATION.md): every file of the run folder with its sha256, a canonical digest over that
 * list, and an Ed25519 signature over the digest. Pure: hashing and signing, no file system.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const MANIFEST_FILE = 'manifest.json';
export const PUBLIC_KEY_FILE = 'public-key.pem';
export const MANIFEST_FORMAT = 'interop-conformance-certification';

export interface ManifestFile {
  /** A plain file name inside the package folder. */
  readonly path: string;
  /** sha256 of the file's bytes, lowercase hex. */
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly schemaVersion: 1;
  /** Sorted by path (code-unit order), manifest.json itself excluded. */
  readonly files: readonly ManifestFile[];
  /** sha256 of the canonical text of `files`, lowercase hex. */
  readonly digest: string;
  readonly signature: {
    readonly algorithm: 'Ed25519';
    /** sha256 of the signing key's SubjectPublicKeyInfo (DER), `sha256:` and lowercase hex. */
    readonly keyFingerprint: string;
    /** Ed25519 over `signedMessage(digest)`, base64url without padding. */
    readonly value: string;
  };
}

export const sha256Hex = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** By path, in code-unit order (as `sort` in the C locale). */
const byPath = (a: ManifestFile, b: ManifestFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** One line per file, `<sha256>  <path>\n` (as sha256sum prints), sorted by path. */
export function canonicalText(files: readonly ManifestFile[]): string {
  return [...files]
    .sort(byPath)
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
}

/** What the key signs: the digest under a label, so that the signature means nothing elsewhere. */
const signedMessage = (digest: string): Buffer => Buffer.from(`${MANIFEST_FORMAT}:1:sha256:${digest}`, 'utf8');

/** Of either half of a key pair: the public half's. */
const publicHalf = (key: KeyObject): KeyObject => (key.type === 'private' ? createPublicKey(key) : key);

export function keyFingerprint(key: KeyObject): string {
  return `sha256:${sha256Hex(publicHalf(key).export({ type: 'spki', format: 'der' }))}`;
}

export function publicKeyPem(key: KeyObject): string {
  return publicHalf(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** The manifest of `files` (name → content), signed with an Ed25519 private key. */
export function buildManifest(
  files: readonly { readonly name: string; readonly content: string | Uint8Array }[],
  privateKey: KeyObject,
): Manifest {
  const listed = files.map((f) => ({ path: f.name, sha256: sha256Hex(f.content) })).sort(byPath);
  const digest = sha256Hex(canonicalText(listed));
  const value = sign(null, signedMessage(digest), privateKey).toString('base64url');
  return {
    format: MANIFEST_FORMAT,
    schemaVersion: 1,
    files: listed,
    digest,
    signature: { algorithm: 'Ed25519', keyFingerprint: keyFingerprint(privateKey), value },
  };
}

export function signatureHolds(digest: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedMessage(digest), publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
