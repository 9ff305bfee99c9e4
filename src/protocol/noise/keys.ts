/**
 * The raw 32-byte keys the wire carries: X25519 for the handshake's agreements, and the two
 * signature schemes a certificate chain may use. X25519 is libsignal's: node:crypto takes a key
 * only as DER, and decoding it cost ten times the agreement itself, a second of a default run.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { PrivateKey } from '@signalapp/libsignal-client';
import { pqDjbKey } from '../signal-store-pq.js';
import { NoiseError } from './errors.js';
import type { CertSignatureScheme } from './profile.js';

export const KEY_BYTES = 32;

export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Ed25519's DER prefixes before a raw key (RFC 8410): PKCS#8 private, SPKI public. */
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

const privateKeyObject = (raw: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, raw]), format: 'der', type: 'pkcs8' });

const publicKeyObject = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw]), format: 'der', type: 'spki' });

const rawPublic = (key: KeyObject): Uint8Array =>
  Uint8Array.from(key.export({ format: 'der', type: 'spki' }).subarray(-KEY_BYTES));

function checkLength(what: string, key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new NoiseError('config', `${what} has ${key.length} bytes, not ${KEY_BYTES}`);
}

/** An X25519 key pair, from 32 private bytes (a seeded test's) or fresh ones. */
export function x25519KeyPair(privateKey: Uint8Array = randomBytes(KEY_BYTES)): KeyPair {
  checkLength('an X25519 private key', privateKey);
  return {
    privateKey: Uint8Array.from(privateKey),
    publicKey: PrivateKey.deserialize(Uint8Array.from(privateKey)).getPublicKey().getPublicKeyBytes(),
  };
}

/** X25519 with a peer's public key; a key that gives the all-zero secret (low order) is the peer's fault. */
export function x25519(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
  if (peerPublicKey.length !== KEY_BYTES)
    throw new NoiseError('malformed', `a public key of ${peerPublicKey.length} bytes, not ${KEY_BYTES}`);
  try {
    return PrivateKey.deserialize(Uint8Array.from(privateKey)).agree(pqDjbKey(peerPublicKey));
  } catch (cause) {
    throw new NoiseError('bad-key', 'X25519 refused the public key (a low-order point?)', { cause });
  }
}

/** A key pair to sign certificates with: X25519 for XEdDSA, Ed25519 otherwise. */
export function signingKeyPair(scheme: CertSignatureScheme, privateKey: Uint8Array = randomBytes(KEY_BYTES)): KeyPair {
  if (scheme === 'xeddsa') return x25519KeyPair(privateKey);
  checkLength('an Ed25519 private key', privateKey);
  return {
    privateKey: Uint8Array.from(privateKey),
    publicKey: rawPublic(createPublicKey(privateKeyObject(privateKey))),
  };
}

/**
 * A 64-byte signature. XEdDSA is libsignal's (its nonce is random, so the bytes differ each time);
 * Ed25519 is node:crypto's and deterministic.
 */
export function signWith(scheme: CertSignatureScheme, privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  if (scheme === 'xeddsa') return PrivateKey.deserialize(Uint8Array.from(privateKey)).sign(Uint8Array.from(message));
  return Uint8Array.from(sign(null, message, privateKeyObject(privateKey)));
}

export function verifyWith(
  scheme: CertSignatureScheme,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== KEY_BYTES || signature.length !== 64) return false;
  try {
    if (scheme === 'xeddsa') return pqDjbKey(publicKey).verify(Uint8Array.from(message), Uint8Array.from(signature));
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    // A key that does not decode (not on the curve) verifies nothing.
    return false;
  }
}
