/**
 * Proof-key rotation and refused streams (docs/PROFILE.md §11): a new key is published before it
 * signs, a retired key signs nothing more, no live user breaks, and a refused stream is reported
 * to the user rather than retried in a loop.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import { defineCheck, ANSWER_MS, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';
import { fetchKeySet, readProof, signatureProblem } from './proof.js';
import { refusedOnce } from '../scenarios/stream-refusal.js';

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

/** PROOF-ROTATION-RETIRE: after the old key is retired, the live stream lives and new proofs verify. */
export const retiredKeySignsNothing = defineCheck(
  { name: 'ownership/rotation/retire', changes: ['proof-keys'] },
  async (ctx) => {
    const user = await ctx.testbed.providerUser();
    ctx.step('rotate the proof key, then retire the old one');
    await ctx.providerWide.rotateProofKey();
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
    return accepted
      ? met()
      : notMet('the reconnection after the rotation accepted', 'the gatekeeper refused the stream');
  },
);

/** PROOF-REFUSED */
export const refusalReported = defineCheck({ name: 'ownership/stream/refusal-reported' }, (ctx) => {
  return refusedOnce(ctx, 'not-authorized', 'proof refused: refused by the conformance harness');
});
