/**
 * The provider's push endpoint (docs/PROFILE.md §12): the gatekeeper POSTs `{"to": "<identifier>"}`
 * with a Bearer JWT it signs; the server verifies it against the gatekeeper's published key set and
 * wakes the user's client, which reconnects and drains its mailbox. A refusal says only
 * `invalid_token` (RFC 6750 §3.1): a prober learns nothing about which check failed.
 */
import { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  exportSPKI,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { Agent, request } from 'undici';
import type { GatekeeperEndpoint } from '../protocol/driver-api.js';
import {
  ALLOWED_ALGORITHMS,
  CLOCK_SKEW_S,
  isCompactJws,
  MAX_PUSH_BODY_BYTES,
  PUSH_ISSUER,
} from '../protocol/ownership.js';
import type { FaultSet } from './faults.js';

const FETCH_TIMEOUT_MS = 5000;
/** Fetches of the key set on an unfamiliar `kid` at most this often: a bogus kid cannot make every push a fetch. */
const REFETCH_COOLDOWN_MS = 100;
/** What a fault that forgets the size limit still stops at, so that the process survives. */
const NO_LIMIT_BYTES = 1024 * 1024;

export interface PushDeps {
  readonly faults: FaultSet;
  /** The provider's base URL: the audience push tokens must name. */
  baseUrl(): string;
  /** Wakes the client of the user with this identifier; false when there is no such user. */
  wake(identifier: string): boolean;
}

export class PushEndpoint {
  private trusted: { endpoint: GatekeeperEndpoint; keys: Promise<JSONWebKeySet>; fetchedAt: number } | undefined;

  /** The `kid`s a refetch did not hold, remembered by the push-unknown-kid-cached fault alone. */
  private readonly unknownKids = new Set<string>();

  constructor(private readonly deps: PushDeps) {}

  /** Trusts the gatekeeper whose key set is at `endpoint.url` (a test deployment learns it from the driver). */
  trust(endpoint: GatekeeperEndpoint): void {
    if (this.trusted?.endpoint.url === endpoint.url) return;
    void this.fetch(endpoint);
  }

  private fetch(endpoint: GatekeeperEndpoint): Promise<JSONWebKeySet> {
    const keys = fetchKeySet(endpoint);
    keys.catch(() => undefined); // a failed fetch refuses every push (verify), and is no crash
    this.trusted = { endpoint, keys, fetchedAt: Date.now() };
    return keys;
  }

  /**
   * PUSH-KEY-ROTATION: the key set again, when a token names a `kid` the held copy lacks (OpenID
   * Connect Core §10.1.1). Far inside the profile's cooldown, so a rotation right after another
   * fetch is taken at once; a fetch already under way is shared.
   */
  private async refetch(): Promise<JSONWebKeySet | undefined> {
    const trusted = this.trusted;
    if (!trusted || this.deps.faults.has('push-pin-key-set')) return undefined;
    if (Date.now() - trusted.fetchedAt < REFETCH_COOLDOWN_MS) return trusted.keys;
    return this.fetch(trusted.endpoint);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { faults } = this.deps;
    if (req.method !== 'POST') return answer(res, 405, { allow: 'POST' });
    const bearer = /^Bearer ([A-Za-z0-9._~+/=-]*)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined && !faults.has('push-no-auth-required')) return refuse(res, faults, undefined);
    const refusal = bearer === undefined ? undefined : await this.verify(bearer);
    if (refusal !== undefined) return refuse(res, faults, refusal);
    const limit = faults.has('push-no-size-limit')
      ? NO_LIMIT_BYTES
      : faults.has('push-size-limit-one-over')
        ? MAX_PUSH_BODY_BYTES + 1
        : faults.has('push-size-limit-one-under')
          ? MAX_PUSH_BODY_BYTES - 1
          : MAX_PUSH_BODY_BYTES;
    const body = await readBody(req, limit, faults.has('push-read-whole-body'));
    if (body === null) return refuseOversized(req, res);
    const to = readTo(body, faults.has('push-to-coerced'), faults.has('push-empty-to-404'));
    if (to === undefined && !faults.has('push-lenient-body')) return answer(res, 400);
    // PUSH-ACCEPT: an identifier it does not know gets 404.
    if (to !== undefined && !this.deps.wake(to)) return answer(res, faults.has('push-unknown-200') ? 200 : 404);
    answer(res, 200);
  }

  /** PUSH-TOKEN: the provider's base URL, the origin of its push endpoint. */
  private audience(): string {
    const origin = new URL(this.deps.baseUrl()).origin;
    return this.deps.faults.has('push-strict-audience') ? `${origin}/push` : origin;
  }

  /**
   * Undefined when `token` is a push token of the trusted gatekeeper for this provider, still valid;
   * otherwise why not, which only the `push-challenge-detail` fault tells the pusher.
   */
  private async verify(token: string): Promise<string | undefined> {
    const { faults } = this.deps;
    if (!this.trusted) return 'no key set of the gatekeeper is trusted';
    // PUSH-REFUSE [7]'s faults verify with no list of algorithms, each as a careless verifier would.
    const anyAlg = faults.has('push-any-alg');
    const lax = anyAlg || faults.has('push-any-rsa-alg');
    const keysOf = (set: JSONWebKeySet): JWTVerifyGetKey => (lax ? laxKeys(set, anyAlg) : createLocalJWKSet(set));
    const options: JWTVerifyOptions = {
      ...(lax ? {} : { algorithms: [...ALLOWED_ALGORITHMS] }),
      requiredClaims: ['iss', 'aud', 'iat', 'exp'],
      // PUSH-REFUSE [13]: the fault requires only the claims it compares, so no exp is no expiry.
      ...(faults.has('push-exp-optional') ? { requiredClaims: ['iss', 'aud'] } : {}),
      clockTolerance: faults.has('push-ignore-expiry')
        ? 10 * 365 * 86400
        : faults.has('push-expiry-hour')
          ? 3600
          : faults.has('push-expiry-no-skew')
            ? 0
            : CLOCK_SKEW_S,
      ...(faults.has('push-ignore-issuer') ? {} : { issuer: PUSH_ISSUER }),
      ...(faults.has('push-ignore-audience') ? {} : { audience: this.audience() }),
    };
    // PUSH-REFUSE [14]: the fault reads the header before its error handling, so a token it cannot
    // read escapes as the server's error, a 500, instead of a refusal.
    if (faults.has('push-unreadable-token-500')) decodeProtectedHeader(token);
    try {
      const header = decodeProtectedHeader(token);
      if (faults.has('push-no-signature-check') || (faults.has('push-accept-alg-none') && header.alg === 'none')) {
        return claimsHold(decodeJwt(token), options) ? undefined : 'the claims do not hold';
      }
      // Only a token in canonical compact serialization is verified (an alg-none token, with no
      // signature segment, is the faults' business above).
      if (!isCompactJws(token)) return 'the token is not a compact JWS';
      const jwks = await this.trusted.keys;
      if (faults.has('push-ignore-kid')) {
        const first = jwks.keys[0];
        if (!first) return 'the key set is empty';
        await jwtVerify(token, await importJWK(first, first.alg ?? 'RS256'), options);
        return undefined;
      }
      if (!(await holdsKey(token, keysOf(jwks), options))) {
        // The fault refuses a kid it once found missing without fetching the key set again.
        const kid = header.kid ?? '';
        if (this.unknownKids.has(kid)) return "the token's kid is known not to be in the key set";
        const fresh = await this.refetch();
        if (fresh === undefined || !(await holdsKey(token, keysOf(fresh), options))) {
          // The fault remembers a kid that even the refetched key set lacked.
          if (faults.has('push-unknown-kid-cached')) this.unknownKids.add(kid);
          return "no key of the key set has the token's kid";
        }
      }
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }
}

/**
 * The key a careless verifier takes for a token: the published key its `kid` names, held as a
 * KeyObject, as a verifier keyed by PEMs holds it, so that jose with no list of algorithms runs any
 * RSA algorithm the header names (push-any-rsa-alg, like jsonwebtoken 9 given no `algorithms`).
 * With `hmacFromPem`, an HMAC `alg` gets the key's PEM as its secret, as a verifier that runs
 * whatever the header names does (push-any-alg, like jsonwebtoken before 4.2.2). No key under that
 * `kid` is JWKSNoMatchingKey, so that a rotation is refetched as ever.
 */
function laxKeys(jwks: JSONWebKeySet, hmacFromPem: boolean): JWTVerifyGetKey {
  return async (header) => {
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    if (!jwk) throw new errors.JWKSNoMatchingKey();
    const key = await importJWK(jwk, 'RS256');
    if (key instanceof Uint8Array) throw new TypeError('the push key set holds a symmetric key');
    return hmacFromPem && header.alg?.startsWith('HS') === true
      ? new TextEncoder().encode(await exportSPKI(key))
      : KeyObject.from(key);
  };
}

/** Whether `keys` verify the token: false when they hold no key for it; throws when one refuses it. */
async function holdsKey(token: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<boolean> {
  try {
    await jwtVerify(token, keys, options);
    return true;
  } catch (e) {
    if (e instanceof errors.JWKSNoMatchingKey) return false;
    throw e;
  }
}

/** The claim checks alone, for the faults that skip the signature. */
function claimsHold(claims: JWTPayload, options: JWTVerifyOptions): boolean {
  const now = Math.floor(Date.now() / 1000);
  if (options.issuer !== undefined && claims.iss !== options.issuer) return false;
  if (
    options.audience !== undefined &&
    claims.aud !== options.audience &&
    !(Array.isArray(claims.aud) && claims.aud.includes(String(options.audience)))
  )
    return false;
  return typeof claims.exp === 'number' && claims.exp + Number(options.clockTolerance ?? 0) >= now;
}

async function fetchKeySet(endpoint: GatekeeperEndpoint): Promise<JSONWebKeySet> {
  const agent = new Agent({
    connect: { ca: endpoint.caCertPem, timeout: FETCH_TIMEOUT_MS },
    headersTimeout: FETCH_TIMEOUT_MS,
    bodyTimeout: FETCH_TIMEOUT_MS,
  });
  try {
    const res = await request(endpoint.url, { dispatcher: agent, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    const jwks = (await res.body.json()) as JSONWebKeySet;
    if (res.statusCode !== 200 || !Array.isArray(jwks.keys))
      throw new Error(`the gatekeeper's key set answered HTTP ${res.statusCode}`);
    return jwks;
  } finally {
    await agent.close();
  }
}

/** PUSH-REFUSE [10]: the body's `to`, a non-empty string; `coerce` (a fault) takes a number for the identifier it spells. */
function readTo(body: string, coerce: boolean, takeEmpty: boolean): string | undefined {
  try {
    const json = JSON.parse(body) as { to?: unknown };
    if (coerce && typeof json.to === 'number') return String(json.to);
    if (takeEmpty && json.to === '') return '';
    return typeof json.to === 'string' && json.to !== '' ? json.to : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 6750 §3: 401 with the error code only, and no body (PUSH-REFUSE). `why` is the token's
 * refusal, undefined when there was no token.
 */
function refuse(res: ServerResponse, faults: FaultSet, why: string | undefined): void {
  // A framework's default for a request with no credentials: a Basic challenge.
  if (why === undefined && faults.has('push-challenge-basic'))
    return answer(res, 401, { 'www-authenticate': 'Basic realm="push"' });
  // RFC 6750 §3 allows error_description; PUSH-REFUSE does not, since it tells a prober which check failed.
  const detail =
    why !== undefined && faults.has('push-challenge-detail')
      ? `, error_description="${why.replace(/["\\]/g, "'")}"`
      : '';
  answer(res, 401, { 'www-authenticate': `Bearer error="invalid_token"${detail}` });
}

/**
 * PUSH-REFUSE [11]: 413, and not a byte more read. The connection closes once the answer is out:
 * the rest of the body is never taken in. A socket destroyed with unread bytes sends a reset, which
 * can reach the client before it has read the 413; so it is half-closed first, and dropped a little later.
 */
function refuseOversized(req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    req.socket.end();
    setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  });
  answer(res, 413, { connection: 'close' });
}

/** How long a refused upload's connection stays half-closed before it is dropped (a lingering close). */
const LINGER_MS = 1000;

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-length': '0', 'cache-control': 'no-store', ...headers });
  res.end();
}

/**
 * The body, or null when it is over `limit`: known from its Content-Length before a byte is read, or
 * on the byte past the limit, where reading stops. `wholly` (the `push-read-whole-body` fault)
 * reads the body to its end, up to NO_LIMIT_BYTES, before judging its size.
 */
function readBody(req: IncomingMessage, limit: number, wholly: boolean): Promise<string | null> {
  if (!wholly && Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.removeListener('data', onData);
      req.pause();
      resolve(null);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > (wholly ? NO_LIMIT_BYTES : limit)) return stop();
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    // A client that gave up before the end: nothing to answer (a promise settles once).
    req.on('close', () => resolve(null));
    req.on('error', reject);
  });
}
