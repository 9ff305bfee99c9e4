/**
 * What a proof is, read independently of the gatekeeper's verifier (docs/PROFILE.md §11): the key
 * set fetched afresh from the provider's discovery document, the token decoded and verified with
 * `jose`. One rule per function, so that each case judges only its own.
 */
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { PreconditionError } from '../../core/errors.js';
import { ALLOWED_ALGORITHMS } from '../../protocol/ownership.js';
import { ANSWER_MS, type CheckContext } from '../check.js';
import type { ReadProof } from '../scenarios/proof.js';

/** The provider's key set as it is served right now. */
export async function fetchKeySet(ctx: CheckContext): Promise<JSONWebKeySet> {
  return (await fetchServedKeySet(ctx)).jwks;
}

/** The key set and the media type it was served as (the Content-Type without its parameters, lowercased). */
export async function fetchServedKeySet(ctx: CheckContext): Promise<{ jwks: JSONWebKeySet; mediaType: string }> {
  const uri = ctx.testbed.gatekeeper.providerDiscovery()?.jwksUri;
  if (uri === undefined) throw new PreconditionError('no discovery document, so no key set');
  ctx.step("fetch the provider's key set");
  const res = await ctx.testbed.gatekeeper.providerGet(
    uri,
    AbortSignal.any([ctx.signal, AbortSignal.timeout(ANSWER_MS)]),
  );
  const text = res.body.toString('utf8');
  if (res.status !== 200) throw new PreconditionError(`the key set ${uri} answered HTTP ${res.status}`);
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(text) as JSONWebKeySet;
    if (!Array.isArray(jwks.keys)) throw new Error('no "keys" array');
  } catch (e) {
    throw new PreconditionError(`the key set ${uri} is not a JWK Set: ${(e as Error).message}`);
  }
  return { jwks, mediaType: (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '' };
}

/** The media types a key set may be served as: JSON's, or RFC 7517's own (§8.5). */
export const KEY_SET_MEDIA_TYPES = ['application/json', 'application/jwk-set+json'] as const;

/**
 * PROOF-SIGNATURE, on the key set as served: why it is not what a gatekeeper can rely on (its media
 * type, or a key without `kid`, `use: "sig"` and `alg`), or undefined when it is.
 */
export function keySetProblem(jwks: JSONWebKeySet, mediaType: string): string | undefined {
  if (!(KEY_SET_MEDIA_TYPES as readonly string[]).includes(mediaType))
    return `the key set served as ${mediaType === '' ? 'no Content-Type' : `Content-Type ${mediaType}`}`;
  for (const [i, key] of jwks.keys.entries()) {
    const name = typeof key.kid === 'string' && key.kid !== '' ? `kid "${key.kid}"` : `key ${i + 1}`;
    if (typeof key.kid !== 'string' || key.kid === '') return `${name} of the key set has no kid`;
    if (key.use !== 'sig')
      return `${name} of the key set ${key.use === undefined ? 'has no use' : `has use "${String(key.use)}"`}, not "sig"`;
    if (typeof key.alg !== 'string' || key.alg === '') return `${name} of the key set has no alg`;
  }
  return undefined;
}

export const allowedAlg = (alg: string | undefined): boolean =>
  (ALLOWED_ALGORITHMS as readonly string[]).includes(alg ?? '');

/** Why the token's signature does not verify with `jwks`, or undefined when it does. */
export async function signatureProblem(token: string, jwks: JSONWebKeySet): Promise<string | undefined> {
  try {
    await compactVerify(token, createLocalJWKSet(jwks), { algorithms: [...ALLOWED_ALGORITHMS] });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Why the proof's `kid` does not name a published signing key, or undefined when it does. */
export function kidProblem(proof: ReadProof, jwks: JSONWebKeySet): string | undefined {
  const kid = proof.header.kid;
  if (kid === undefined) return "no kid in the proof's header";
  const key = jwks.keys.find((k) => k.kid === kid);
  if (!key)
    return `kid "${kid}", which the key set does not hold (it holds ${jwks.keys.map((k) => `"${k.kid ?? ''}"`).join(', ') || 'no key'})`;
  if (key.use !== undefined && key.use !== 'sig') return `kid "${kid}" names a key with use "${key.use}"`;
  return undefined;
}
