/**
 * Verifies the ownership proof a provider's client presents at enlistment and on every connection:
 * a compact JWT signed by the provider's server, checked against the key set its discovery
 * document names (docs/PROFILE.md §11). The key set is fetched once per run and
 * fetched again when a token names a key it does not hold (key rotation must not break a user).
 */
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { systemClock, type Clock } from '../core/clock.js';
import type { Agent } from 'undici';
import { codeOf, describeError } from '../core/errors.js';
import { isLimitExceeded } from '../core/limits.js';
import { boundedRequest, decodeJson, outboundAgent, type OutboundOptions } from '../net/outbound.js';
import type { Discovery } from '../protocol/driver-api.js';
import { MAX_TOKEN_CHARS } from '../protocol/enlistment.js';
import {
  ALLOWED_ALGORITHMS,
  CLOCK_SKEW_S,
  isCompactJws,
  PROOF_AUDIENCE,
  PROOF_MAX_LIFETIME_S,
} from '../protocol/ownership.js';

export type ProofResult =
  | { readonly ok: true; readonly identifier: string; readonly claims: JWTPayload }
  | { readonly ok: false; readonly reason: string };

/** A token naming an unknown `kid` triggers a refetch, at most this often. */
const REFETCH_INTERVAL_MS = 1000;
/** The key set is fetched again when older than this, whatever the tokens name. */
const KEY_SET_MAX_AGE_MS = 5 * 60_000;

type KeySet = ReturnType<typeof createLocalJWKSet>;

interface CachedSet {
  readonly uri: string;
  readonly fetchedAt: number;
  /** The key set, or why there is none usable. */
  readonly keys: Promise<KeySet | string>;
  failed: boolean;
}

export class ProofVerifier {
  private discovery: Discovery | undefined;
  private cached: CachedSet | undefined;
  private readonly agent: Agent;
  private readonly ownsAgent: boolean;
  private readonly clock: Clock;

  /**
   * `outbound.tls.ca` trusts a test provider's own certificate for its HTTPS key set. `agent`, when
   * given, is a pool of the same options shared with the gatekeeper's other requests to the
   * provider; its owner closes it.
   */
  constructor(
    private readonly outbound: OutboundOptions,
    clock: Clock = systemClock,
    agent?: Agent,
  ) {
    this.clock = clock;
    this.agent = agent ?? outboundAgent(outbound);
    this.ownsAgent = agent === undefined;
  }

  setDiscovery(discovery: Discovery): void {
    this.discovery = discovery;
    this.cached = undefined;
  }

  async verify(token: string): Promise<ProofResult> {
    if (this.discovery === undefined) return fail('no provider is set, so there is no key set to verify against');
    if (token.length === 0) return fail('empty token');
    if (token.length > MAX_TOKEN_CHARS) return fail(`token of ${token.length} characters exceeds ${MAX_TOKEN_CHARS}`);
    if (!isCompactJws(token))
      return fail('not a compact JWS: three segments of canonical unpadded base64url and nothing else');
    const first = await this.tryVerify(token, false);
    if (first.ok || !first.unknownKey) return first.result;
    // A new kid after a rotation: wait out the refetch interval rather than refuse a live user.
    // A timer may fire a little before Date.now() says the interval passed: hence the margin.
    const wait = (this.cached?.fetchedAt ?? 0) + REFETCH_INTERVAL_MS + 10 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
    return (await this.tryVerify(token, true)).result;
  }

  async close(): Promise<void> {
    if (this.ownsAgent) await this.agent.close();
  }

  private async tryVerify(
    token: string,
    refetch: boolean,
  ): Promise<{ ok: boolean; unknownKey: boolean; result: ProofResult }> {
    const keys = await this.keySet(refetch);
    if (typeof keys === 'string') return { ok: false, unknownKey: false, result: fail(keys) };
    try {
      // PROOF-CLAIMS: issued by the provider of the discovery document, for the gatekeeper.
      const { payload } = await jwtVerify(token, keys, {
        algorithms: [...ALLOWED_ALGORITHMS],
        requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp'],
        issuer: this.discovery?.providerId ?? '',
        audience: PROOF_AUDIENCE,
        clockTolerance: CLOCK_SKEW_S,
        // Bounds `iat` from both sides: a proof issued in the future would outlive PROOF-LIFETIME.
        maxTokenAge: PROOF_MAX_LIFETIME_S,
        currentDate: new Date(this.clock.now()),
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        return { ok: false, unknownKey: false, result: fail('claim "sub" is not a non-empty string') };
      }
      const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
      if (lifetime > PROOF_MAX_LIFETIME_S) {
        return {
          ok: false,
          unknownKey: false,
          result: fail(`lifetime of ${lifetime} s exceeds ${PROOF_MAX_LIFETIME_S} s`),
        };
      }
      return { ok: true, unknownKey: false, result: { ok: true, identifier: payload.sub, claims: payload } };
    } catch (e) {
      const unknownKey = e instanceof joseErrors.JWKSNoMatchingKey;
      return { ok: false, unknownKey, result: fail(describeJoseError(e)) };
    }
  }

  /** The cached key set, or a reason it is unusable; `refetch` asks for a fresh one (rate-limited). */
  private keySet(refetch: boolean): Promise<KeySet | string> {
    const uri = this.discovery?.jwksUri ?? '';
    const now = Date.now();
    const c = this.cached;
    const old = c !== undefined && now - c.fetchedAt >= REFETCH_INTERVAL_MS;
    // PROOF-ROTATION-RETIRE: a key the provider retired stops verifying within KEY_SET_MAX_AGE_MS.
    const stale = c !== undefined && now - c.fetchedAt >= KEY_SET_MAX_AGE_MS;
    if (c !== undefined && c.uri === uri && !stale && !((refetch || c.failed) && old)) return c.keys;
    const entry: CachedSet = { uri, fetchedAt: now, keys: this.fetchKeySet(uri), failed: false };
    void entry.keys.then((k) => {
      entry.failed = typeof k === 'string';
    });
    this.cached = entry;
    return entry.keys;
  }

  private async fetchKeySet(uri: string): Promise<KeySet | string> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return `jwksUri ${JSON.stringify(uri)} is not an absolute URL`;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `jwksUri scheme ${url.protocol} is not http(s)`;
    let body: Buffer;
    const what = `the key set ${uri}`;
    try {
      const res = await boundedRequest(
        this.agent,
        uri,
        { method: 'GET', headers: { accept: 'application/json' }, bodyCap: 'http-body-bytes', what },
        this.outbound.limits,
      );
      body = res.body;
      if (res.status !== 200) return `key set fetch from ${uri} answered HTTP ${res.status}`;
    } catch (e) {
      // A cap's message names the cap; a transport's code (ECONNREFUSED, UND_ERR_…) says what its message may not.
      const code = isLimitExceeded(e) ? undefined : codeOf(e);
      return `key set fetch from ${uri} failed: ${typeof code === 'string' ? `${code} ` : ''}${describeError(e)}`;
    }
    try {
      const jwks = decodeJson(body, this.outbound.limits, what) as JSONWebKeySet;
      if (!jwks || !Array.isArray(jwks.keys)) return `key set from ${uri} has no "keys" array`;
      return createLocalJWKSet(jwks);
    } catch (e) {
      return `key set from ${uri} is not a JSON Web Key Set: ${(e as Error).message}`;
    }
  }
}

const fail = (reason: string): ProofResult => ({ ok: false, reason });

function describeJoseError(e: unknown): string {
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `${e.code} (${e.claim}): ${e.message}`;
  if (e instanceof joseErrors.JOSEError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
