/** Size limits per media type: announced in the discovery document (MEDIA-LIMITS) and kept by the client (MEDIA-LIMIT-ENFORCED). */
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import { met, notApplicable, notMet, type Finding } from '../../core/model.js';
import { toBase64 } from '../../protocol/base64.js';
import { MEDIA_TYPES, type MediaType } from '../../protocol/media/scheme.js';
import { unpad } from '../../protocol/payload.js';
import { defineCheck, paramsOf, ANSWER_MS, choiceParam, QUIET_MS, type CheckContext } from '../check.js';
import { lastSeq, sends } from '../observe.js';
import { judgeKeys } from './integrity.js';
import { discoveryOf, fetchVerified, samplePlaintext, sendFile, sentSha256 } from './scenario.js';
import { SAMPLES } from './sniff.js';
import { oneOf, readDeclared } from './wire-fields.js';

/** The slowest host the at-limit fetch allows for: a blob of the limit is given a second for each 4 MiB. */
const FETCH_BYTES_PER_S = 4 * 1024 ** 2;

/** The largest limit the profile lets a provider announce: 2 GiB, as the gatekeeper's own clients. */
export const MAX_MEDIA_LIMIT = 2 * 1024 ** 3;

/** MEDIA-LIMITS */
export const announced = defineCheck({ name: 'media/limits/announced' }, async (ctx) => {
  const limits = discoveryOf(ctx).mediaLimits;
  const expected = `mediaLimits with a byte count from 1 to ${MAX_MEDIA_LIMIT} for ${MEDIA_TYPES.join(', ')}`;
  if (!limits) return notMet(expected, 'no mediaLimits in the discovery document');
  const bad = MEDIA_TYPES.filter((t) => !Number.isInteger(limits[t]) || limits[t] < 1 || limits[t] > MAX_MEDIA_LIMIT);
  return bad.length === 0
    ? met()
    : notMet(expected, bad.map((t) => `${t}: ${String(limits[t] ?? 'missing')}`).join(', '));
});

/** The case's media type (`params.type`) and the limit the provider announced for it, which it must have. */
function announcedLimit(ctx: CheckContext, purpose: string): { type: MediaType; limit: number } {
  const type = choiceParam(ctx, 'type', MEDIA_TYPES, 'image');
  const limit = discoveryOf(ctx).mediaLimits?.[type];
  if (limit === undefined)
    throw new ProviderViolation(`an announced ${type} limit to ${purpose}`, 'no mediaLimits in the discovery document');
  return { type, limit };
}

/** MEDIA-LIMIT-ENFORCED [1]: asked to send one byte over its limit, the client sends no media message. */
export const enforced = defineCheck(
  { name: 'media/limits/enforced', params: paramsOf({ type: { enum: MEDIA_TYPES } }) },
  async (ctx) => {
    const { type, limit } = announcedLimit(ctx, 'keep');
    const provider = await ctx.testbed.providerUser();
    const gatekeeperUser = await ctx.testbed.gatekeeperUser();
    const before = lastSeq(provider.connection);
    const earlier = new Set(gatekeeperUser.deliveries);
    ctx.step(`provider asked to send ${limit + 1} bytes of ${type}`);
    const answer = await provider.sendMedia({
      to: gatekeeperUser.jid,
      type,
      mimetype: SAMPLES[type].mimetype,
      content: toBase64(samplePlaintext(ctx, type, 64)),
      size: limit + 1,
    });
    const frame = await ctx.testbed.frameFrom(provider.connection, sends('message'), {
      afterSeq: before,
      timeoutMs: 'refused' in answer ? QUIET_MS : ANSWER_MS,
    });
    if (!frame) return met('refused' in answer ? `refused: ${answer.refused}` : 'nothing sent');
    const delivery = await gatekeeperUser.waitForDelivery((d) => !earlier.has(d), {
      signal: ctx.signal,
      timeoutMs: ANSWER_MS,
    });
    const unpadded = delivery?.plaintext ? unpad(delivery.plaintext) : undefined;
    if (!unpadded?.ok) throw new PreconditionError('the message sent instead of a refusal could not be read');
    const declared = readDeclared(unpadded.bytes, type);
    const length = typeof declared === 'string' ? undefined : declared.fileLength;
    return notMet(
      `no ${type} over the announced limit of ${limit} bytes`,
      `${type} message of fileLength ${length ?? '?'}, over its announced limit of ${limit}`,
    );
  },
);

/**
 * MEDIA-LIMIT-ENFORCED [2]: the announced limit is the largest file the client sends, so a file of
 * exactly that size is sent, and decrypts at the gatekeeper to the file given. The file is the
 * sample, then filler: one blob of the limit's size (16 MiB for the reference's images) is
 * encrypted by the client, fetched and decrypted once.
 */
export const atLimit = defineCheck(
  { name: 'media/limits/at-limit', params: paramsOf({ type: { enum: MEDIA_TYPES } }) },
  async (ctx) => {
    const { type, limit } = announcedLimit(ctx, 'send up to');
    return judgeSentWithin(ctx, type, { size: limit, what: `of exactly the announced ${limit} bytes` });
  },
);

/**
 * MEDIA-LIMIT-ENFORCED [2], for a type whose limit is above another's: a file one byte over the
 * largest smaller limit is within its own type's, and is sent like any other (a client that keeps
 * one limit for all its types refuses it). A provider whose other limits are none smaller has
 * nothing to judge here.
 */
export const withinLimit = defineCheck(
  { name: 'media/limits/within-limit', params: paramsOf({ type: { enum: MEDIA_TYPES } }) },
  async (ctx) => {
    const { type, limit } = announcedLimit(ctx, 'send up to');
    const of = (t: MediaType): number => discoveryOf(ctx).mediaLimits?.[t] ?? limit;
    const other = MEDIA_TYPES.filter((t) => of(t) < limit).sort((a, b) => of(b) - of(a))[0];
    if (other === undefined) return notApplicable(`no type's announced limit is below the ${type} limit of ${limit}`);
    const size = of(other) + 1;
    return judgeSentWithin(ctx, type, {
      size,
      what: `of ${size} bytes, over the ${other} limit but within its own ${limit}`,
    });
  },
);

/** A file of `type` and `size` bytes, within the type's limit, must be sent, served and decrypt to the file given. */
async function judgeSentWithin(
  ctx: CheckContext,
  type: MediaType,
  { size, what }: { size: number; what: string },
): Promise<Finding> {
  const sent = await sendFile(ctx, type, { size });
  if ('refused' in sent)
    return notMet(`${oneOf(type)} ${what} sent`, `refused ${oneOf(type)} ${what}: ${sent.refused}`);
  // The blob is as large as the file: its fetch gets the time a slow host needs for it.
  const fetched = await fetchVerified(ctx, sent, undefined, {
    timeoutMs: ANSWER_MS + Math.ceil(size / FETCH_BYTES_PER_S) * 1000,
  });
  if (fetched.status !== 200 || !fetched.verdict)
    return notMet(
      `${oneOf(type)} ${what} sent, and its blob served`,
      `the host answered HTTP ${fetched.status ?? '?'} for the blob of ${oneOf(type)} ${what}`,
    );
  return judgeKeys(fetched.verdict, type, await sentSha256(sent));
}
