/**
 * Proof-key rotation and refused streams (docs/PROFILE.md §11): a new key is published before it
 * signs, a retired key signs nothing more, no live user breaks, and a refused stream is reported
 * to the user rather than retried in a loop.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import { defineCheck, paramsOf, ANSWER_MS, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';
import { readProof } from '../scenarios/proof.js';
import { fetchKeySet, signatureProblem } from './proof.js';
import { refusedOnce, type AfterRefusal } from '../scenarios/stream-refusal.js';

/** Connects `user` again and returns the proof its new `<open/>` carried. */
async function reconnectProof(ctx: CheckContext, user: ProviderUser): Promise<{ token: string; accepted: boolean }> {
  const opens = ctx.testbed.watchOpens();
  ctx.step('reconnect');
  const { connected } = await user.connect();
  const open = opens.find((f) => f.node?.attrs['from'] === user.login);
  const token = open?.node?.attrs['token'];
  if (token === undefined) throw new PreconditionError('the reconnection sent no <open/> with a proof');
  const accepted =
    connected &&
    (await ctx.testbed.gatekeeper.waitForConnection(user.login, { signal: ctx.signal, timeoutMs: ANSWER_MS })) !== null;
  return { token, accepted };
}

/** PROOF-ROTATION-PUBLISH */
export const publishedBeforeSigning = defineCheck(
  { name: 'ownership/rotation/publish-before-sign', changes: ['proof-keys'] },
  async (ctx) => {
    const user = await ctx.testbed.providerUser();
    ctx.step('rotate the proof key');
    const { kid } = await ctx.providerWide.rotateProofKey();
    const jwks = await fetchKeySet(ctx);
    const { token } = await reconnectProof(ctx, user);
    const expected = `the new key (kid "${kid}") in the key set before a proof is signed with it`;
    const newKey = jwks.keys.find((k) => k.kid === kid);
    if (!newKey) return notMet(expected, `kid "${kid}" not in the key set served right after the rotation`);
    // Judged by the signature, not the header's kid: PROOF-KID judges that.
    const problem = await signatureProblem(token, { keys: [newKey] });
    return problem === undefined
      ? met()
      : notMet(
          `proofs signed with the new key "${kid}" after the rotation`,
          `a proof the new key does not verify: ${problem}`,
        );
  },
);

/**
 * The published key that verifies `token` on its own, or undefined when none does: judged key by
 * key, since a proof with no `kid` (PROOF-KID's business) leaves jose no key to pick among several.
 */
async function signingKey(token: string, jwks: JSONWebKeySet): Promise<JWK | undefined> {
  for (const key of jwks.keys) if ((await signatureProblem(token, { keys: [key] })) === undefined) return key;
  return undefined;
}

/**
 * PROOF-ROTATION-PUBLISH [2], a SHOULD: a proof signed just before the rotation still verifies
 * with the key set served right after it. A provider that publishes the new key alone strands
 * every proof the old key signed while it is still live. With `twice`, a second rotation follows
 * the first at once: the proof is still live, so the key from before the first one stays too, which
 * a provider that keeps only its two newest keys drops.
 */
export const oldKeyKept = defineCheck(
  {
    name: 'ownership/rotation/keep-old-key',
    changes: ['proof-keys'],
    params: paramsOf({ twice: { type: 'boolean' } }),
  },
  async (ctx) => {
    const twice = ctx.params['twice'] === true;
    const user = await ctx.testbed.providerUser();
    const { token } = await reconnectProof(ctx, user);
    const old = await signingKey(token, await fetchKeySet(ctx));
    if (!old)
      throw new PreconditionError(
        'no published key verifies the proof before the rotation; PROOF-SIGNATURE judges that',
      );
    const named = old.kid === undefined ? 'the key' : `the key (kid "${old.kid}")`;
    ctx.note(`the proof before the rotation is signed by ${named}`);
    ctx.step('rotate the proof key');
    const { kid } = await ctx.providerWide.rotateProofKey();
    const after = await fetchKeySet(ctx);
    // A rotation that published no new key leaves the old one where it was, and proves nothing.
    if (kid === old.kid || !after.keys.some((k) => k.kid === kid))
      throw new PreconditionError(
        `the rotation published no new key (kid "${kid}"); PROOF-ROTATION-PUBLISH [1]'s case judges that`,
      );
    if (!twice) {
      if (await signingKey(token, after)) return met();
      return notMet(
        `${named} that signed a proof just before the rotation still in the key set after it, for the proof's lifetime`,
        `the key set served right after the rotation no longer verifies the proof ${named} signed just before it; it holds ${describeKids(after)}`,
      );
    }
    ctx.step('rotate the proof key again');
    const second = await ctx.providerWide.rotateProofKey();
    const last = await fetchKeySet(ctx);
    if (second.kid === kid || second.kid === old.kid || !last.keys.some((k) => k.kid === second.kid))
      throw new PreconditionError(
        `the second rotation published no new key (kid "${second.kid}"); PROOF-ROTATION-PUBLISH [1]'s case judges that`,
      );
    if (await signingKey(token, last)) return met();
    return notMet(
      `${named} that signed a proof just before two rotations in a row still in the key set after both, for the proof's lifetime`,
      `the key set served right after the second rotation no longer verifies the proof ${named} signed before the first; it holds ${describeKids(last)}`,
    );
  },
);

/** The kids of a key set, for a verdict. */
const describeKids = (jwks: JSONWebKeySet): string =>
  jwks.keys.length === 0 ? 'no key' : jwks.keys.map((k) => `kid "${k.kid ?? '(none)'}"`).join(', ');

/**
 * PROOF-ROTATION-RETIRE: after the old key is retired, the live stream lives, new proofs verify,
 * and the key set holds the signing key alone.
 */
export const retiredKeySignsNothing = defineCheck(
  { name: 'ownership/rotation/retire', changes: ['proof-keys'] },
  async (ctx) => {
    const user = await ctx.testbed.providerUser();
    ctx.step('rotate the proof key, then retire the old one');
    const { kid } = await ctx.providerWide.rotateProofKey();
    await ctx.providerWide.retireProofKeys();
    if (!(await user.connection.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS }))) {
      return notMet('the live stream to go on across a key rotation', 'no answer to a ping after the rotation');
    }
    const jwks = await fetchKeySet(ctx);
    const { token, accepted } = await reconnectProof(ctx, user);
    const expected = 'a proof after the rotation that verifies with the key set as now published';
    // Judged by the signature alone: PROOF-KID judges the header.
    const problem = await signatureProblem(token, jwks);
    if (problem !== undefined)
      return notMet(
        expected,
        `a proof (kid "${readProof(token)?.header.kid ?? ''}") the published key set does not verify: ${problem}`,
      );
    // Judged by kid: the old keys sign nothing now, so only the key set shows they still verify.
    const kept = jwks.keys.filter((k) => k.kid !== kid);
    if (kept.length > 0)
      return notMet(
        `the signing key (kid "${kid}") alone in the key set after the retire`,
        `the key set served after the retire still holds ${describeKids({ keys: kept })}`,
      );
    return accepted
      ? met()
      : notMet('the reconnection after the rotation accepted', 'the gatekeeper refused the stream');
  },
);

/**
 * PROOF-REFUSED; with `params.then`, what follows the first refusal: a second one, which gets an
 * event of its own, or a connection, after which the first event is still there.
 */
export const refusalReported = defineCheck(
  {
    name: 'ownership/stream/refusal-reported',
    params: paramsOf({ then: { enum: ['refused-again', 'connected'] satisfies AfterRefusal[] } }),
  },
  (ctx) => {
    const then = ctx.params['then'] as AfterRefusal | undefined;
    return refusedOnce(ctx, 'not-authorized', 'proof refused: refused by the conformance harness', then);
  },
);
