/**
 * Gatekeeper → provider push (docs/PROFILE.md §12): `POST {pushEndpoint}`
 * with `{"to": "<identifier>"}` and a Bearer JWT that the gatekeeper signs with its own key,
 * published at `{gatekeeper origin}/.well-known/jwks`. The defects are the ways a forged or stale
 * push can look; a provider must refuse each one.
 */
import { KeyObject, randomBytes } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type GenerateKeyPairResult,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Agent } from 'undici';
import { systemClock, unixSeconds, type Clock } from '../core/clock.js';
import type { LimitExceeded } from '../core/limits.js';
import { http2Status } from '../net/http2-get.js';
import { postHeldBody } from '../net/held-body.js';
import { boundedRequest, outboundAgent, type OutboundOptions } from '../net/outbound.js';
import {
  CLOCK_SKEW_S,
  MAX_PUSH_BODY_BYTES,
  PUSH_ISSUER,
  PUSH_TOKEN_LIFETIME_S,
  pushAudience,
  SKEW_BOUNDARY_STEP_S,
} from '../protocol/ownership.js';
import type { HeldPushAnswer, PushAnswer, PushDefect, RotatedPushKey } from './control-types.js';
import type { HttpExchange } from './observation-types.js';

const ALGORITHM = 'RS256';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The published key itself: its PEM keys the algorithm-confusion token (`alg-hs256-public-key`). */
  readonly publicKey: CryptoKey;
}

/** A key the gatekeeper publishes: its public JWK, with `kid`, `alg` and `use`. */
async function published(pair: GenerateKeyPairResult): Promise<{ signing: SigningKey; jwk: JWK }> {
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return {
    signing: { kid, privateKey: pair.privateKey, publicKey: pair.publicKey },
    jwk: { ...jwk, kid, alg: ALGORITHM, use: 'sig' },
  };
}

/**
 * The gatekeeper's push key and the forger's, made once per process: every gatekeeper of a run
 * (`--workers`) and of a test process signs as the one gatekeeper it plays, and an RSA key costs
 * ~170 ms to make.
 */
let signingPairs: Promise<[GenerateKeyPairResult, GenerateKeyPairResult]> | undefined;

/** Starts making the push keys on the thread pool, for a run to overlap with its own start-up. */
export function preparePushKeys(): Promise<[GenerateKeyPairResult, GenerateKeyPairResult]> {
  return (signingPairs ??= Promise.all([generateKeyPair(ALGORITHM), generateKeyPair(ALGORITHM)]));
}

export class PushSender {
  private readonly agent: Agent;
  private readonly ownsAgent: boolean;
  private pushEndpoint: string | undefined;
  /** When the key set was served, Date.now() of each fetch. */
  private readonly fetches: number[] = [];

  private constructor(
    private readonly keys: JWK[],
    private own: SigningKey,
    /** Same kid, another key: what a forger who read the key set would sign with. */
    private readonly forger: CryptoKey,
    private readonly record: (e: HttpExchange) => void,
    private readonly outbound: OutboundOptions,
    private readonly clock: Clock,
    agent: Agent | undefined,
  ) {
    this.agent = agent ?? outboundAgent(outbound);
    this.ownsAgent = agent === undefined;
  }

  /** `agent`, when given, is a pool of the same options shared with the gatekeeper's other requests to the provider; its owner closes it. */
  static async create(
    record: (e: HttpExchange) => void,
    outbound: OutboundOptions,
    clock: Clock = systemClock,
    agent?: Agent,
  ): Promise<PushSender> {
    const [own, forged] = await preparePushKeys();
    const { signing, jwk } = await published(own);
    return new PushSender([jwk], signing, forged.privateKey, record, outbound, clock, agent);
  }

  /** The published key set. */
  get jwks(): JSONWebKeySet {
    return { keys: [...this.keys] };
  }

  /** The key set as its URL serves it; each call is a fetch the provider made. */
  keySetDocument(): string {
    this.fetches.push(Date.now());
    return JSON.stringify(this.jwks);
  }

  /** Date.now() of every fetch of the key set so far. */
  keySetFetches(): readonly number[] {
    return [...this.fetches];
  }

  /**
   * Rotates the push key as OpenID Connect Core §10.1.1 has a signer do it: a new key joins the
   * key set under a new `kid` and signs every push from now on. The undo makes the old key sign
   * again; the new one stays published, as a rolled-over key would. Unless `publish`, the new key
   * signs before it is published, until `publish()` (PUSH-KEY-ROTATION: a kid refused once is
   * accepted once its key is published).
   */
  async rotate(publish = true): Promise<RotatedPushKey> {
    const { signing, jwk } = await published(await generateKeyPair(ALGORITHM));
    const add = (): void => {
      if (!this.keys.some((k) => k.kid === jwk.kid)) this.keys.push(jwk);
    };
    if (publish) add();
    const previous = this.own;
    this.own = signing;
    return { kid: signing.kid, undo: () => void (this.own = previous), publish: add };
  }

  setPushEndpoint(url: string): void {
    this.pushEndpoint = url;
  }

  /** Sends one push for `to`, with at most one defect, and returns the provider's answer. */
  async push(to: string, defect: PushDefect, signal: AbortSignal): Promise<PushAnswer> {
    const url = this.endpoint();
    const body = pushBody(to, defect);
    const token = defect === 'missing-header' ? undefined : await this.token(url, defect);
    const started = Date.now();
    const res = await boundedRequest(
      this.agent,
      url,
      {
        method: 'POST',
        signal,
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body,
        bodyCap: 'http-body-bytes',
        what: `the push endpoint's answer`,
      },
      this.outbound.limits,
    );
    const text = res.body.toString('utf8');
    const header = res.headers['www-authenticate'];
    this.record({
      at: started,
      method: 'POST',
      url,
      status: res.status,
      requestBody: `${token === undefined ? '' : `Authorization: Bearer ${token}\n`}${body.slice(0, 200)}`,
      responseBody: text,
      durationMs: Date.now() - started,
    });
    return { status: res.status, body: text, wwwAuthenticate: header };
  }

  /**
   * PUSH-REFUSE [11]: a push with a valid token whose body is sent, chunked, as far as one byte
   * past the limit, and no further (postHeldBody). The answer, or why none came within `timeoutMs`.
   */
  async pushHeldBody(to: string, signal: AbortSignal, timeoutMs: number): Promise<HeldPushAnswer> {
    const url = this.endpoint();
    const token = await this.token(url, 'valid');
    const sent = heldBodyStart(to);
    const started = Date.now();
    const res = await postHeldBody(
      url,
      this.outbound,
      {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        sent,
        bodyCap: 'http-body-bytes',
      },
      signal,
      timeoutMs,
    );
    const none =
      'silent' in res
        ? `no answer within ${timeoutMs} ms`
        : 'error' in res
          ? `no answer: the exchange failed (${res.error})`
          : undefined;
    const text = none === undefined && 'body' in res ? res.body.toString('utf8') : '';
    this.record({
      at: started,
      method: 'POST (chunked, the body held back)',
      url,
      status: 'status' in res ? res.status : 0,
      requestBody: `Authorization: Bearer ${token}\n${sent.slice(0, 200)}… (${Buffer.byteLength(sent)} bytes sent, the rest held back)`,
      responseBody: none ?? text,
      durationMs: Date.now() - started,
    });
    if (none !== undefined || !('status' in res)) return { none: none ?? 'no answer' };
    return { status: res.status, body: text, wwwAuthenticate: res.headers['www-authenticate'] };
  }

  /**
   * A valid push for `to` over HTTP/2 (SERVER-HTTP-VERSIONS): h2 by ALPN over https, h2c with prior
   * knowledge over http. The answer's status, or why there was none, as `http2Status` gives it.
   */
  async pushOverHttp2(to: string, signal: AbortSignal, timeoutMs: number): Promise<number | string | LimitExceeded> {
    const url = this.endpoint();
    const body = pushBody(to, 'valid');
    const token = await this.token(url, 'valid');
    const started = Date.now();
    const status = await http2Status(url, this.outbound, signal, timeoutMs, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    this.record({
      at: started,
      method: 'POST (HTTP/2)',
      url,
      status: typeof status === 'number' ? status : 0,
      requestBody: `Authorization: Bearer ${token}\n${body}`,
      responseBody: typeof status === 'number' ? '' : String(status),
      durationMs: Date.now() - started,
    });
    return status;
  }

  private endpoint(): string {
    if (this.pushEndpoint === undefined) throw new Error('no provider is set, so there is no push endpoint');
    return this.pushEndpoint;
  }

  close(): Promise<void> {
    return this.ownsAgent ? this.agent.close() : Promise.resolve();
  }

  private async token(pushEndpoint: string, defect: PushDefect): Promise<string> {
    const now = unixSeconds(this.clock);
    // PUSH-REFUSE's bound on exp, from both sides: one step inside the skew, and one step past it.
    const ago =
      defect === 'expired'
        ? CLOCK_SKEW_S + SKEW_BOUNDARY_STEP_S
        : defect === 'valid-expired-within-skew'
          ? CLOCK_SKEW_S - SKEW_BOUNDARY_STEP_S
          : undefined;
    const exp = ago === undefined ? now + PUSH_TOKEN_LIFETIME_S : now - ago;
    const claims: JWTPayload = {
      iss: defect === 'wrong-issuer' ? `${PUSH_ISSUER}-NOT` : PUSH_ISSUER,
      aud: defect === 'wrong-audience' ? 'https://elsewhere.invalid' : pushAudience(pushEndpoint),
      iat: exp - PUSH_TOKEN_LIFETIME_S,
      // PUSH-REFUSE [13]: RFC 7519 makes exp optional, so a verifier must be told to require it.
      ...(defect === 'no-exp' ? {} : { exp }),
    };
    // PUSH-REFUSE [14]: an opaque token, as an OAuth server hands out, one base64url segment.
    if (defect === 'not-a-jws') return randomBytes(32).toString('base64url');
    if (defect === 'alg-none') return new UnsecuredJWT(claims).encode();
    // PUSH-REFUSE [7], an algorithm outside PROOF-ALG: two that a careless verifier still takes,
    // each under the published kid, so that nothing but the algorithm is wrong.
    if (defect === 'alg-hs256-public-key') {
      // The classic algorithm confusion: HS256 keyed with the published key's SPKI PEM, as jose
      // writes it. A verifier that runs whatever `alg` the header names and hands it the PEM it made
      // of the key set takes it as the HMAC secret (jsonwebtoken before 4.2.2, hand-made verifiers),
      // and anyone who has read the key set can sign such a token. A verifier keyed by another form
      // of the key (a PEM with a final newline, PKCS#1) takes other bytes, which this case misses.
      const secret = new TextEncoder().encode(await exportSPKI(this.own.publicKey));
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: this.own.kid, typ: 'JWT' }).sign(secret);
    }
    if (defect === 'alg-rs384') {
      // RS384 by the gatekeeper's own key: a verifier handed the RSA key with no list of algorithms
      // takes any the key can do (jsonwebtoken 9's default for an RSA key is RS256 to RS512 and
      // PS256 to PS512, jose's for a KeyObject alike); only such a list, or the key's own `alg`,
      // pins RS256. The key as a KeyObject, since the CryptoKey is bound to RS256's hash.
      const key = KeyObject.from(this.own.privateKey);
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS384', kid: this.own.kid, typ: 'JWT' }).sign(key);
    }
    const kid = defect === 'unknown-kid' ? 'not-a-published-kid' : this.own.kid;
    const key = defect === 'forged-signature' ? this.forger : this.own.privateKey;
    return new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM, kid, typ: 'JWT' }).sign(key);
  }
}

/** The part of a push body that PUSH-REFUSE [11] sends: `{"to": …` and whitespace, one byte past the limit, unclosed. */
function heldBodyStart(to: string): string {
  const start = `{"to": ${JSON.stringify(to)}`;
  return `${start}${' '.repeat(MAX_PUSH_BODY_BYTES + 1 - Buffer.byteLength(start))}`;
}

function pushBody(to: string, defect: PushDefect): string {
  if (defect === 'malformed-body') return `{"to": ${JSON.stringify(to)}`;
  // The identifier's digits as a JSON number: what a loosely typed provider would look up, and must refuse.
  if (defect === 'number-to') return `{"to": ${to.replace(/\D/g, '') || '0'}}`;
  if (defect === 'empty-to') return '{"to": ""}';
  const body = JSON.stringify({ to });
  // The body at the limit and one byte past it: `{"to": …}` and JSON whitespace, so nothing else changes.
  const size =
    defect === 'valid-body-at-limit'
      ? MAX_PUSH_BODY_BYTES
      : defect === 'oversized-body'
        ? MAX_PUSH_BODY_BYTES + 1
        : undefined;
  return size === undefined ? body : `${body.slice(0, -1)}${' '.repeat(size - Buffer.byteLength(body))}}`;
}
