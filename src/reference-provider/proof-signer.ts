/**
 * The provider server's ownership proofs (docs/PROFILE.md §11): a compact JWT that the server signs
 * for one of its authenticated users, which the client presents at enlistment and on every chat
 * connection. The gatekeeper verifies it against the key set the server publishes at
 * `/.well-known/oauth/openid/jwks`, the path and key shape of the public overview's sample (RS256
 * with a `kid`). Rotation publishes the new key before it signs anything, and keeps the old one
 * published until it is retired, so that no live user's proof stops verifying.
 */
import { randomBytes } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { PROOF_AUDIENCE } from '../protocol/ownership.js';
import type { FaultSet } from './faults.js';

const ALGORITHM = 'RS256';
/** Short-lived: a proof is minted per enlistment and per connection, so it never needs to last. */
const LIFETIME_S = 10 * 60;

export interface ProofSigner {
  /** The public halves, as the JWKS document serves them. */
  jwks(): JSONWebKeySet;
  /** A fresh proof that `identifier` is this provider's user. */
  issue(identifier: string): Promise<string>;
  /** Publishes a new key and signs with it from now on; resolves with its `kid`. */
  rotate(): Promise<string>;
  /** Unpublishes every key but the one that signs. */
  retire(): void;
}

interface SigningKey {
  readonly kid: string;
  readonly jwk: JWK;
  readonly privateKey: CryptoKey;
}

async function newKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(ALGORITHM);
  const jwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint names the key stably without a registry of ids.
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, jwk: { ...jwk, kid, alg: ALGORITHM, use: 'sig' }, privateKey };
}

/**
 * The key a provider starts with, made once per process: a provider keeps its signing key across
 * restarts, and an RSA key costs ~170 ms to make, which the tests' hundreds of starts would pay.
 * Rotation still makes new keys.
 */
let firstKey: Promise<SigningKey> | undefined;

export async function createProofSigner(providerId: string, faults: FaultSet): Promise<ProofSigner> {
  let signing = await (firstKey ??= newKey());
  let published: SigningKey[] = [signing];
  /** What signs instead of `signing` under a fault (an unpublished or retired key). */
  let impostor: SigningKey | undefined = faults.has('proof-unpublished-key')
    ? { ...(await newKey()), kid: signing.kid }
    : undefined;
  /** A signing key the key set does not show yet (only under a fault). */
  let unpublished: SigningKey | undefined;

  const sign = async (identifier: string): Promise<string> => {
    const key = impostor ?? signing;
    // The rotation faults are one proof wide: a race at the moment of rotation, not a broken signer.
    if (faults.has('retired-key-signs-once') && impostor !== undefined && !faults.has('proof-unpublished-key'))
      impostor = undefined;
    const now = Math.floor(Date.now() / 1000);
    const lifetime = faults.has('proof-long-lived') ? 24 * 3600 : LIFETIME_S;
    const jwt = new SignJWT(faults.has('proof-oversized') ? { pad: 'x'.repeat(5000) } : {})
      .setProtectedHeader({
        alg: faults.has('proof-hs256') ? 'HS256' : ALGORITHM,
        typ: 'JWT',
        ...(faults.has('proof-no-kid') ? {} : { kid: key.kid }),
      })
      .setIssuer(providerId)
      .setSubject(faults.has('proof-sub-without-plus') ? identifier.replace(/^\+/, '') : identifier)
      .setAudience(faults.has('proof-wrong-audience') ? providerId : PROOF_AUDIENCE)
      .setIssuedAt(now);
    if (!faults.has('proof-no-expiry')) jwt.setExpirationTime(now + lifetime);
    const token = await (faults.has('proof-hs256') ? jwt.sign(randomBytes(32)) : jwt.sign(key.privateKey));
    if (key === unpublished) unpublished = undefined;
    return token;
  };

  return {
    jwks: () => ({
      keys: published
        .filter((k) => k !== unpublished)
        .map((k) => (faults.has('jwk-no-use') ? withoutUse(k.jwk) : k.jwk)),
    }),
    issue: sign,
    async rotate() {
      const next = await newKey();
      published = [...published, next];
      // PROOF-ROTATION-PUBLISH [2]: the fault drops the old key while its proofs are still live.
      if (faults.has('rotate-drop-old-key')) published = [next];
      // The fault keeps the two newest keys alone: a second rotation drops the first one's old key, its proofs still live.
      if (faults.has('rotation-keeps-two-keys')) published = published.slice(-2);
      // The fault signs its first proof with the new key before the key set shows it.
      if (faults.has('rotate-sign-before-publish')) unpublished = next;
      signing = next;
      if (faults.has('proof-unpublished-key') && impostor) impostor = { ...impostor, kid: next.kid };
      return next.kid;
    },
    retire() {
      const old = published.filter((k) => k !== signing);
      published = [signing];
      // PROOF-ROTATION-RETIRE: the fault stops signing with the old keys but leaves them published.
      if (faults.has('retire-keeps-old-keys')) published = [...old, signing];
      unpublished = undefined;
      // The fault signs one more proof with a key it no longer publishes.
      if (faults.has('retired-key-signs-once') && old[0]) impostor = old[0];
    },
  };
}

/** The `jwk-no-use` fault's key: every member but `use`. */
function withoutUse(jwk: JWK): JWK {
  const { use: _dropped, ...rest } = jwk;
  return rest;
}
