/**
 * Identifier-ownership proofs and push tokens (docs/PROFILE.md §11, §12): the claims, algorithms
 * and bounds both sides apply. The JOSE work itself is `jose`'s.
 */
import { fromBase64Url } from './base64.js';
import { GATEKEEPER_SERVER } from './constants.js';

/** @see docs/PROFILE.md §11, PROOF-SIGNATURE: where a provider publishes its proof keys (a JWK Set). */
export const PROVIDER_JWKS_PATH = '/.well-known/oauth/openid/jwks';
/** Signature algorithms a proof or push token may use (PROOF-ALG); never `none`, never HMAC. */
export const ALLOWED_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
/** Audience of an ownership proof (PROOF-AUDIENCE). */
export const PROOF_AUDIENCE = GATEKEEPER_SERVER;
/** Longest `exp - iat` of an ownership proof (PROOF-LIFETIME). */
export const PROOF_MAX_LIFETIME_S = 3600;
/** Clock difference allowed when judging `iat`, `nbf` and `exp`. */
export const CLOCK_SKEW_S = 60;
/**
 * How far inside and past CLOCK_SKEW_S the harness tests a push token's `exp` (PUSH-REFUSE): more
 * than a clock's tick and a push's round trip, so that the verdict never rests on which second a
 * check lands in, and less than a tolerance a unit off (minutes, an hour) would allow.
 */
export const SKEW_BOUNDARY_STEP_S = 5;

/** Issuer of push tokens, as in the overview's sample (PUSH-TOKEN). */
export const PUSH_ISSUER = 'WHATSAPP';
/** Where the gatekeeper publishes its push-token keys, under its own origin. */
export const GATEKEEPER_JWKS_PATH = '/.well-known/jwks';
/** Lifetime of a push token the gatekeeper signs. */
export const PUSH_TOKEN_LIFETIME_S = 3600;
/**
 * PUSH-KEY-ROTATION: how long after its last fetch of the gatekeeper's key set a provider may hold
 * back the refetch that a push under an unfamiliar `kid` calls for; jose's `createRemoteJWKSet`
 * waits as long by default (its `cooldownDuration`).
 */
export const KEY_SET_REFETCH_COOLDOWN_S = 30;
/** A push body is `{"to": "<identifier>"}`; anything larger than this is refused with 413. */
export const MAX_PUSH_BODY_BYTES = 1024;

/** The audience of a push token: the provider's base URL, which is the origin of its push endpoint. */
export const pushAudience = (pushEndpoint: string): string => new URL(pushEndpoint).origin;

/**
 * A token in the canonical compact serialization, three segments of canonical unpadded base64url
 * and nothing else (RFC 7515 §7.1). A base64url decoder that skips what it does not know would
 * otherwise take a token with bytes spliced in as the token without them.
 */
export const isCompactJws = (token: string): boolean => {
  const segments = token.split('.');
  return segments.length === 3 && segments.every((s) => s.length > 0 && fromBase64Url(s) !== null);
};
