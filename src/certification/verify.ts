/**
 * `verify-report DIR`: is the package as it was signed? Every departure is one line that says what
 * was altered: a file changed, added or removed, the manifest edited, the signature invalid, or a
 * key other than the one the verifier trusts.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, UsageError } from '../core/errors.js';
import { describeSchemaErrors, schemaValidator } from '../core/json-schema.js';
import {
  canonicalText,
  keyFingerprint,
  MANIFEST_FILE,
  PUBLIC_KEY_FILE,
  sha256Hex,
  signatureHolds,
  type Manifest,
} from './manifest.js';

const MANIFEST_SCHEMA = 'certification-manifest.schema.json';

export interface Verification {
  readonly intact: boolean;
  /** One line per alteration, empty when intact. */
  readonly problems: readonly string[];
  /** What was checked, for an intact package: files, digest and the key that signed. */
  readonly summary: string;
}

const short = (hex: string): string => `${hex.slice(0, 12)}…`;

/** `trusted`: the public key the verifier expects; without it the package's own key is used. */
export async function verifyPackage(dir: string, trusted?: KeyObject): Promise<Verification> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).map((e) => (e.isFile() ? e.name : `${e.name}/`));
  } catch (e) {
    throw new UsageError(`cannot read the package folder ${dir}: ${describeError(e)}`);
  }
  const altered = (problems: string[]): Verification => ({ intact: false, problems, summary: '' });
  if (!names.includes(MANIFEST_FILE)) return altered([`removed: ${MANIFEST_FILE}; without it nothing can be verified`]);
  const manifest = await readManifest(join(dir, MANIFEST_FILE));
  if (typeof manifest === 'string') return altered([manifest]);

  const problems: string[] = [];
  const listed = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  for (const name of names.filter((n) => n !== MANIFEST_FILE).sort()) {
    if (!listed.has(name)) problems.push(`added: ${name} (not in the manifest)`);
  }
  for (const [path, expected] of listed) {
    if (!names.includes(path)) {
      problems.push(`removed: ${path}`);
      continue;
    }
    const found = sha256Hex(await readFile(join(dir, path)));
    if (found !== expected)
      problems.push(`changed: ${path} (sha256 ${short(found)}, the manifest says ${short(expected)})`);
  }
  const digest = sha256Hex(canonicalText(manifest.files));
  if (digest !== manifest.digest)
    problems.push(
      `${MANIFEST_FILE} edited: its file list hashes to ${short(digest)}, not to its digest ${short(manifest.digest)}`,
    );

  const { key, whose } = await signingKey(dir, manifest, trusted, problems);
  if (key !== undefined) {
    const fingerprint = keyFingerprint(key);
    if (fingerprint !== manifest.signature.keyFingerprint) {
      problems.push(
        trusted === undefined
          ? `key mismatch: ${MANIFEST_FILE} names key ${manifest.signature.keyFingerprint}, ${PUBLIC_KEY_FILE} holds ${fingerprint}`
          : `wrong key: the package is signed by key ${manifest.signature.keyFingerprint}, not by the given key ${fingerprint}`,
      );
    } else if (!signatureHolds(manifest.digest, manifest.signature.value, key)) {
      problems.push(`signature invalid: key ${fingerprint} did not sign the digest ${short(manifest.digest)}`);
    }
  }
  if (problems.length > 0) return altered(problems);
  return {
    intact: true,
    problems: [],
    summary: `intact: ${manifest.files.length} files, digest sha256:${manifest.digest}, signed by key ${manifest.signature.keyFingerprint} (${whose})`,
  };
}

/** The manifest, or the line that says how it was broken. */
async function readManifest(file: string): Promise<Manifest | string> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    return `${MANIFEST_FILE} edited: not JSON (${describeError(e)})`;
  }
  const validate = schemaValidator(MANIFEST_SCHEMA);
  if (!validate(value))
    return `${MANIFEST_FILE} edited: ${describeSchemaErrors(validate.errors)[0] ?? 'not a manifest'}`;
  return value as Manifest;
}

/** The key to check the signature with: the one given, else the package's own. */
async function signingKey(
  dir: string,
  manifest: Manifest,
  trusted: KeyObject | undefined,
  problems: string[],
): Promise<{ key?: KeyObject; whose: string }> {
  if (trusted !== undefined) return { key: trusted, whose: 'the key given' };
  if (!manifest.files.some((f) => f.path === PUBLIC_KEY_FILE)) {
    problems.push(`${PUBLIC_KEY_FILE} is not in the manifest: pass --public-key to check the signature`);
    return { whose: '' };
  }
  try {
    return {
      key: createPublicKey(await readFile(join(dir, PUBLIC_KEY_FILE), 'utf8')),
      whose: `the package's own ${PUBLIC_KEY_FILE}; pass --public-key to check whose key it is`,
    };
  } catch {
    return { whose: '' }; // already reported as changed or removed
  }
}
