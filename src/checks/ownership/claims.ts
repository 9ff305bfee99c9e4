/**
 * The ownership proof a client presents at enlistment and on `<open/>` (docs/PROFILE.md §11): signed
 * by a key the provider publishes, with an allowed algorithm, naming the gatekeeper, the provider
 * and the user, and short-lived.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notApplicable, notMet } from '../../core/model.js';
import { CLOCK_SKEW_S, PROOF_AUDIENCE, PROOF_MAX_LIFETIME_S } from '../../protocol/ownership.js';
import { defineCheck, type CheckContext } from '../check.js';
import { enlistOnce } from '../scenarios/enlistment.js';
import {
  allowedAlg,
  fetchKeySet,
  fetchServedKeySet,
  KEY_SET_MEDIA_TYPES,
  keySetProblem,
  kidProblem,
  signatureProblem,
} from './proof.js';
import { readProof, type ReadProof } from '../scenarios/proof.js';
import { unixSeconds } from '../../core/clock.js';

/** The proof of a fresh user's enlistment, decoded. */
async function enlistmentProof(ctx: CheckContext): Promise<{ token: string; proof: ReadProof; identifier: string }> {
  const { form, user } = await enlistOnce(ctx);
  const token = form.get('token') ?? '';
  const proof = readProof(token);
  if (!proof) throw new PreconditionError('the enlistment carried no readable JWT; ENLIST-FIELDS judges the form');
  return { token, proof, identifier: user.identifier };
}

/** PROOF-SIGNATURE: the proof verifies, and the key set is served as the profile says, each key with kid, use "sig" and alg. */
export const signature = defineCheck({ name: 'ownership/proof/signature' }, async (ctx) => {
  const { token, proof } = await enlistmentProof(ctx);
  if (!allowedAlg(proof.header.alg)) return notApplicable(`alg ${proof.header.alg ?? '(none)'}; PROOF-ALG judges that`);
  const { jwks, mediaType } = await fetchServedKeySet(ctx);
  const problem = await signatureProblem(token, jwks);
  if (problem !== undefined)
    return notMet('a proof whose signature verifies with the published key set', `signature check failed: ${problem}`);
  const served = keySetProblem(jwks, mediaType);
  return served === undefined
    ? met()
    : notMet(`a key set served as ${KEY_SET_MEDIA_TYPES.join(' or ')}, each key with kid, use "sig" and alg`, served);
});

/** PROOF-KID */
export const kid = defineCheck({ name: 'ownership/proof/kid' }, async (ctx) => {
  const { proof } = await enlistmentProof(ctx);
  const problem = kidProblem(proof, await fetchKeySet(ctx));
  return problem === undefined ? met() : notMet('a kid naming a signing key of the published key set', problem);
});

/** PROOF-ALG */
export const algorithm = defineCheck({ name: 'ownership/proof/alg' }, async (ctx) => {
  const { proof } = await enlistmentProof(ctx);
  const { alg } = proof.header;
  return allowedAlg(alg) ? met(`alg ${alg ?? ''}`) : notMet('alg RS256, ES256 or EdDSA', `alg ${alg ?? '(none)'}`);
});

/** PROOF-LIFETIME */
export const lifetime = defineCheck({ name: 'ownership/proof/lifetime' }, async (ctx) => {
  const { proof } = await enlistmentProof(ctx);
  const { iat, exp } = proof.claims;
  const expected = `iat and exp, exp − iat ≤ ${PROOF_MAX_LIFETIME_S} s, iat within ${CLOCK_SKEW_S} s of now`;
  if (exp === undefined) return notMet(expected, 'no exp claim');
  if (iat === undefined) return notMet(expected, 'no iat claim');
  if (exp - iat > PROOF_MAX_LIFETIME_S) return notMet(expected, `a lifetime of ${exp - iat} s`);
  const skew = iat - unixSeconds(ctx.clock);
  return Math.abs(skew) <= CLOCK_SKEW_S
    ? met(`${exp - iat} s`)
    : notMet(expected, `iat ${Math.abs(skew)} s ${skew > 0 ? 'ahead' : 'behind'}`);
});

/** PROOF-AUDIENCE: the gatekeeper as audience, the provider as issuer. */
export const audience = defineCheck({ name: 'ownership/proof/audience' }, async (ctx) => {
  const { proof } = await enlistmentProof(ctx);
  const providerId = ctx.testbed.gatekeeper.providerDiscovery()?.providerId;
  const { aud, iss } = proof.claims;
  const expected = `aud "${PROOF_AUDIENCE}" and iss "${providerId ?? ''}"`;
  const audOk = aud === PROOF_AUDIENCE || (Array.isArray(aud) && aud.includes(PROOF_AUDIENCE));
  if (!audOk) return notMet(expected, `aud ${JSON.stringify(aud ?? null)}`);
  return iss === providerId ? met() : notMet(expected, `iss ${JSON.stringify(iss ?? null)}`);
});

/** PROOF-ON-CONNECT: every `<open/>` carries a proof that verifies and names the user. */
export const onEveryConnection = defineCheck({ name: 'ownership/proof/on-every-connection' }, async (ctx) => {
  const opens = ctx.testbed.watchOpens();
  const enlisted = await ctx.testbed.enlistedOnce();
  const { identifier, result } = enlisted;
  if (result.status !== 'ok') throw new PreconditionError(`enlistment failed: ${result.reason}`);
  for (const round of ['first', 'second']) {
    ctx.step(`${round} connection`);
    await enlisted.connect();
  }
  ctx.testbed.defer(async () => {
    await ctx.testbed.afterCase().disconnect(enlisted.user);
  });
  const mine = opens.filter((f) => f.node?.attrs['from'] === result.login);
  if (mine.length < 2) throw new PreconditionError(`two connections asked for, ${mine.length} <open/> seen`);
  const jwks = await fetchKeySet(ctx);
  const expected = `a proof on every <open/> that verifies with the published key set and names ${identifier}`;
  for (const f of mine) {
    const token = f.node?.attrs['token'];
    if (token === undefined) return notMet(expected, 'no token on <open/>');
    const problem = await signatureProblem(token, jwks);
    if (problem !== undefined) return notMet(expected, `a proof on <open/> that fails its signature check: ${problem}`);
    const sub = readProof(token)?.claims.sub;
    if (sub !== identifier) return notMet(expected, `a proof on <open/> with sub ${JSON.stringify(sub ?? null)}`);
  }
  return met();
});
