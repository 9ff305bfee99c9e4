/**
 * The keys of certification packages: an Ed25519 private key (PEM, PKCS#8) for `run --official
 * --signing-key`, or one generated for the run; a public key (PEM, SPKI) for `verify-report
 * --public-key`. A bad key file is a one-line usage error naming the flag and the file.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeError, HarnessError, UsageError } from '../core/errors.js';

const bad = (flag: string, path: string, what: string): HarnessError => new UsageError(`${flag} ${path}: ${what}`);

export const readSigningKey = (path: string): Promise<KeyObject> =>
  readEd25519(
    '--signing-key',
    path,
    'a PEM private key (PKCS#8)',
    (key) => createPrivateKey({ key, format: 'pem' }),
    'the package is signed with Ed25519',
  );

export const readPublicKey = (path: string): Promise<KeyObject> =>
  readEd25519(
    '--public-key',
    path,
    'a PEM public key',
    (key) => createPublicKey({ key, format: 'pem' }),
    'packages are signed with Ed25519',
  );

async function readEd25519(
  flag: string,
  path: string,
  what: string,
  parse: (pem: string) => KeyObject,
  why: string,
): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (e) {
    throw bad(flag, path, `cannot read it (${describeError(e)})`);
  }
  let key: KeyObject;
  try {
    key = parse(pem);
  } catch (e) {
    throw bad(flag, path, `not ${what}: ${describeError(e)}`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw bad(flag, path, `an ${key.asymmetricKeyType ?? 'unknown'} key; ${why}`);
  return key;
}

/** A key for this run only: its private half is never written anywhere. */
export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}
