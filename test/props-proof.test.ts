/**
 * Properties of the ownership-proof verifier (src/gatekeeper/proof-verifier.ts with the bounds of
 * src/protocol/ownership.ts), against a real key set served on loopback: any valid proof, in any
 * allowed algorithm, for any identifier and lifetime, verifies; any defect in claims, signature,
 * header, key or time is refused with a reason, never thrown and never accepted. The clock is
 * fixed, so no proof here can expire on its own. fast-check prints the seed on failure.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import './helpers/props-seed.js';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { fixedClock, unixSeconds } from '../src/core/clock.js';
import { ProofVerifier } from '../src/gatekeeper/proof-verifier.js';
import type { Discovery } from '../src/protocol/driver-api.js';
import {
  ALLOWED_ALGORITHMS,
  CLOCK_SKEW_S,
  isCompactJws,
  PROOF_AUDIENCE,
  PROOF_MAX_LIFETIME_S,
} from '../src/protocol/ownership.js';
import { DEFAULT_LIMITS } from '../src/core/limits.js';

/** The test's servers are on loopback. */
const LOCAL = { limits: DEFAULT_LIMITS, allowPrivateTargets: true } as const;

type Alg = (typeof ALLOWED_ALGORITHMS)[number];
interface Signer {
  readonly alg: Alg;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** Another key of the same algorithm, not published. */
  readonly impostor: CryptoKey;
}

const PROVIDER = 'provider.example.test';
const clock = fixedClock(Date.parse('2001-09-09T01:46:40Z'));
const signers = new Map<Alg, Signer>();
let verifier: ProofVerifier;
/** GETs of the test key set, to hold the verifier to its refetch budget. */
let fetches = 0;
let close: () => Promise<void>;

before(async () => {
  for (const alg of ALLOWED_ALGORITHMS) {
    const [own, other] = await Promise.all([generateKeyPair(alg, { extractable: true }), generateKeyPair(alg)]);
    signers.set(alg, {
      alg,
      kid: `k-${alg}`,
      privateKey: own.privateKey,
      publicJwk: await exportJWK(own.publicKey),
      impostor: other.privateKey,
    });
  }
  const body = JSON.stringify({
    keys: [...signers.values()].map((s) => ({ ...s.publicJwk, kid: s.kid, alg: s.alg, use: 'sig' })),
  });
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  verifier = new ProofVerifier(LOCAL, clock);
  verifier.setDiscovery({
    providerId: PROVIDER,
    jwksUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
  } as Discovery);
  close = async () => {
    await verifier.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
});
after(() => close());

const signer = (alg: Alg): Signer => signers.get(alg) as Signer;

const sign = (claims: JWTPayload, alg: Alg, options: { key?: CryptoKey; kid?: string } = {}): Promise<string> =>
  new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT', kid: options.kid ?? signer(alg).kid })
    .sign(options.key ?? signer(alg).privateKey);

const identifier = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
const valid = fc.record({
  alg: fc.constantFrom(...ALLOWED_ALGORITHMS),
  sub: identifier,
  lifetime: fc.integer({ min: 1, max: PROOF_MAX_LIFETIME_S }),
  /** Where the clock stands within the proof's life, skew included. */
  offset: fc.double({ min: 0, max: 1, noNaN: true }),
});

/** The claims of a valid proof whose life holds the clock's `now`. */
function claimsAround(v: { sub: string; lifetime: number; offset: number }): JWTPayload {
  const iat = unixSeconds(clock) + (CLOCK_SKEW_S - 1) - Math.round(v.offset * (v.lifetime + CLOCK_SKEW_S - 1));
  return { iss: PROVIDER, sub: v.sub, aud: PROOF_AUDIENCE, iat, exp: iat + v.lifetime };
}

void test('any valid proof, in any allowed algorithm, for any identifier and lifetime, verifies as its subject', async () => {
  await fc.assert(
    fc.asyncProperty(valid, async (v) => {
      const result = await verifier.verify(await sign(claimsAround(v), v.alg));
      assert.deepEqual(result.ok ? result.identifier : result.reason, v.sub);
    }),
    { numRuns: 150 },
  );
});

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const segments = (token: string): string[] => token.split('.');

type Make = (claims: JWTPayload, alg: Alg) => Promise<string>;

/** One thing wrong with an otherwise valid proof. */
const DEFECTS: Record<string, () => fc.Arbitrary<Make>> = {
  'wrong issuer': () =>
    fc
      .string()
      .filter((s) => s !== PROVIDER)
      .map((iss) => (c, alg) => sign({ ...c, iss }, alg)),
  'wrong audience': () =>
    fc
      .oneof(fc.string(), fc.array(fc.string({ minLength: 1 }), { maxLength: 3 }))
      .filter((a) => a !== PROOF_AUDIENCE && !(Array.isArray(a) && a.includes(PROOF_AUDIENCE)))
      .map((aud) => (c, alg) => sign({ ...c, aud }, alg)),
  'missing claim': () =>
    fc
      .constantFrom('iss', 'sub', 'aud', 'iat', 'exp')
      .map((claim) => (c, alg) => sign(Object.fromEntries(Object.entries(c).filter(([k]) => k !== claim)), alg)),
  'subject not a non-empty string': () =>
    fc.constantFrom<unknown>('', 42, null, ['x'], {}).map((sub) => (c, alg) => sign({ ...c, sub } as JWTPayload, alg)),
  expired: () =>
    fc.integer({ min: 1, max: 10 ** 6 }).map((late) => (c, alg) => {
      const exp = unixSeconds(clock) - CLOCK_SKEW_S - late;
      return sign({ ...c, iat: exp - 60, exp }, alg);
    }),
  'lifetime too long': () =>
    fc
      .integer({ min: 1, max: 10 ** 7 })
      .map((extra) => (c, alg) => sign({ ...c, exp: (c.iat as number) + PROOF_MAX_LIFETIME_S + extra }, alg)),
  'issued in the future': () =>
    fc.integer({ min: 1, max: 10 ** 8 }).map((ahead) => (c, alg) => {
      const iat = unixSeconds(clock) + CLOCK_SKEW_S + ahead;
      return sign({ ...c, iat, exp: iat + 60 }, alg);
    }),
  'not yet valid': () =>
    fc
      .integer({ min: 1, max: 10 ** 6 })
      .map((ahead) => (c, alg) => sign({ ...c, nbf: unixSeconds(clock) + CLOCK_SKEW_S + ahead }, alg)),
  'claims changed after signing': () =>
    fc.constantFrom('sub', 'iss', 'exp').map((claim) => async (c, alg) => {
      const [h, , s] = segments(await sign(c, alg));
      return `${h}.${b64({ ...c, [claim]: claim === 'exp' ? (c.exp as number) + 3600 : `${String(c[claim])}x` })}.${s}`;
    }),
  'signature bit flipped': () =>
    fc.tuple(fc.nat(), fc.nat({ max: 7 })).map(([at, bit]) => async (c, alg) => {
      const [h, p, s] = segments(await sign(c, alg));
      const sig = Buffer.from(s as string, 'base64url');
      const i = at % sig.length;
      sig[i] = (sig[i] as number) ^ (1 << bit);
      return `${h}.${p}.${sig.toString('base64url')}`;
    }),
  'signed by another key under the published kid': () =>
    fc.constant(async (c, alg) => sign(c, alg, { key: signer(alg).impostor })),
  'header alg changed to one not allowed': () =>
    fc.constantFrom('none', 'HS256', 'RS512', 'PS256', '').map((newAlg) => async (c, alg) => {
      const [, p, s] = segments(await sign(c, alg));
      return `${b64({ alg: newAlg, typ: 'JWT', kid: signer(alg).kid })}.${p}.${s}`;
    }),
  'unsecured (alg none)': () => fc.constant(async (c) => new UnsecuredJWT(c).encode()),
  'HMAC keyed with the public key': () =>
    fc.constant(async (c, alg) => {
      const secret = new TextEncoder().encode(JSON.stringify(signer(alg).publicJwk));
      return new SignJWT(c).setProtectedHeader({ alg: 'HS256', kid: signer(alg).kid }).sign(secret);
    }),
  truncated: () =>
    fc.nat().map((cut) => async (c, alg) => {
      const token = await sign(c, alg);
      return token.slice(0, cut % token.length);
    }),
  'bytes spliced in': () =>
    fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 8 })).map(([at, extra]) => async (c, alg) => {
      const token = await sign(c, alg);
      const i = at % token.length;
      return token.slice(0, i) + extra + token.slice(i);
    }),
};

/**
 * Defects that name no key in the set, each of which costs the verifier a rate-limited refetch
 * of the key set (about a second): kept to a few runs.
 */
const UNKNOWN_KEY_DEFECTS: Record<string, () => fc.Arbitrary<Make>> = {
  'signed under the kid of a key of another algorithm': () =>
    fc.constantFrom(...ALLOWED_ALGORITHMS).map(
      (other) => (c, alg) =>
        sign(c, alg, {
          kid: signer(
            other === alg
              ? (ALLOWED_ALGORITHMS[(ALLOWED_ALGORITHMS.indexOf(alg) + 1) % ALLOWED_ALGORITHMS.length] as Alg)
              : other,
          ).kid,
        }),
    ),
  'header alg changed to another allowed one': () =>
    fc.constantFrom(...ALLOWED_ALGORITHMS).map((other) => async (c, alg) => {
      const [, p, s] = segments(await sign(c, alg));
      const swapped =
        other === alg ? ALLOWED_ALGORITHMS[(ALLOWED_ALGORITHMS.indexOf(alg) + 1) % ALLOWED_ALGORITHMS.length] : other;
      return `${b64({ alg: swapped, typ: 'JWT', kid: signer(alg).kid })}.${p}.${s}`;
    }),
  'a kid not in the set': () =>
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((kid) => !kid.startsWith('k-'))
      .map((kid) => (c, alg) => sign(c, alg, { kid })),
};

const pick = (defects: Record<string, () => fc.Arbitrary<Make>>): fc.Arbitrary<{ name: string; make: Make }> =>
  fc
    .constantFrom(...Object.keys(defects))
    .chain((name) => (defects[name] as () => fc.Arbitrary<Make>)().map((make) => ({ name, make })));

async function refused(
  v: { alg: Alg; sub: string; lifetime: number; offset: number },
  d: { name: string; make: Make },
): Promise<void> {
  const token = await d.make(claimsAround(v), v.alg);
  const result = await verifier.verify(token);
  assert.equal(result.ok, false, `${d.name}: accepted ${token}`);
  assert.ok(!result.ok && typeof result.reason === 'string' && result.reason.length > 0, d.name);
}

void test('a proof with any one defect in claims, signature, header, key or time is refused with a reason, never accepted', async () => {
  await fc.assert(fc.asyncProperty(valid, pick(DEFECTS), refused), { numRuns: 400 });
});

void test('a proof naming a key the set does not hold for its algorithm is refused, at the cost of at most one refetch', async () => {
  await fc.assert(
    fc.asyncProperty(valid, pick(UNKNOWN_KEY_DEFECTS), async (v, d) => {
      const before = fetches;
      await refused(v, d);
      assert.ok(fetches - before <= 1, `${d.name}: ${fetches - before} fetches of the key set for one proof`);
    }),
    { numRuns: 3 },
  );
});

void test('random strings, dotted or not, never crash the verifier nor verify', async () => {
  const part = fc.oneof(
    fc.base64String(),
    fc.string(),
    fc.constant(b64({ alg: 'none' })),
    fc.constant(b64({ alg: 'RS256', kid: 'k-RS256' })),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.array(part, { minLength: 1, maxLength: 5 }).map((p) => p.join('.')),
      ),
      async (token) => {
        const result = await verifier.verify(token);
        assert.ok(!result.ok && result.reason.length > 0, token);
      },
    ),
    { numRuns: 400 },
  );
});

void test('only canonical compact serialization is read: bytes spliced into a segment, padding or a fourth segment are refused first', async () => {
  assert.equal(isCompactJws('eyJh.eyJi.c2ln'), true);
  for (const token of ['eyJh.eyJi.c2 ln', 'eyJh.eyJi.c2ln=', 'eyJh.eyJi.c2ln.eA', 'eyJh..c2ln', 'eyJh.eyJi.c2l']) {
    assert.equal(isCompactJws(token), false, token);
  }
  const result = await verifier.verify('eyJh.eyJi.c2 ln');
  assert.ok(!result.ok && /compact JWS/.test(result.reason));
});
