/**
 * The provider server's ownership proofs (DESIGN.md §1, "Ownership proof"): a compact JWT that the
 * server signs for one of its authenticated users, which the client presents at enlistment and on
 * every chat connection. The gatekeeper verifies it against the key set the server publishes at
 * `/.well-known/oauth/openid/jwks`, the path and key shape of the public overview's sample (RS256
 * with a `kid`).
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import { GATEKEEPER_SERVER } from '../protocol/constants.js';

const ALGORITHM = 'RS256';
/** Short-lived: a proof is minted per enlistment and per connection, so it never needs to last. */
const LIFETIME_S = 10 * 60;

export interface ProofSigner {
  /** The public half, as the JWKS document serves it. */
  readonly jwks: JSONWebKeySet;
  /** A fresh proof that `identifier` is this provider's user. */
  issue(identifier: string): Promise<string>;
}

export async function createProofSigner(providerId: string): Promise<ProofSigner> {
  const { publicKey, privateKey } = await generateKeyPair(ALGORITHM);
  const jwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint names the key stably without a registry of ids.
  const kid = await calculateJwkThumbprint(jwk);
  const jwks: JSONWebKeySet = { keys: [{ ...jwk, kid, alg: ALGORITHM, use: 'sig' }] };

  return {
    jwks,
    issue: (identifier) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: ALGORITHM, kid, typ: 'JWT' })
        .setIssuer(providerId)
        .setSubject(identifier)
        .setAudience(GATEKEEPER_SERVER)
        .setIssuedAt(now)
        .setExpirationTime(now + LIFETIME_S)
        .sign(privateKey);
    },
  };
}
