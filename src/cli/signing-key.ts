/**
 * The keys of certification packages: an Ed25519 private key (PEM, PKCS#8) for `run --official
 * --signing-key`, or one generated for the run; a public key (PEM, SPKI) for `verify-report
 * --public-key`. A bad key file is a one-line usage error naming the flag and the file.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeError, HarnessError } from '../core/errors.js';

const bad = (flag: string, path: string, what: string): HarnessError => new HarnessError('E_USAGE', `${flag} ${path}: ${what}`);

export async function readSigningKey(path: string): Promise<KeyObject> {
  const pem = await readPem('--signing-key', path);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw bad('--signing-key', path, `not a PEM private key (PKCS#8): ${describeError(e)}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw bad('--signing-key', path, `an ${key.asymmetricKeyType ?? 'unknown'} key; the package is signed with Ed25519`);
  return key;
}

export async function readPublicKey(path: string): Promise<KeyObject> {
  const pem = await readPem('--public-key', path);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw bad('--public-key', path, `not a PEM public key: ${describeError(e)}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw bad('--public-key', path, `an ${key.asymmetricKeyType ?? 'unknown'} key; packages are signed with Ed25519`);
  return key;
}

/** A key for this run only: its private half is never written anywhere. */
export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw bad(flag, path, `cannot read it (${describeError(e)})`);
  }
}
