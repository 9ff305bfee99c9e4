/** The storage reference as the only secret of a media URL: unguessable (MEDIA-REFERENCE) and short-lived (MEDIA-EXPIRY). */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import { choiceParam, defineCheck, paramsOf, numberParam, type CheckContext } from '../check.js';
import { hashOf } from './encrypt.js';
import {
  discoveryOf,
  fetchRaw,
  fetchSent,
  guessedFrom,
  neighbourOf,
  noStorageReference,
  sendMedia,
  storageReference,
  type SentMedia,
} from './scenario.js';

/** 22 base64url characters carry 132 bits: the profile's bound is 128. */
export const MIN_REFERENCE_CHARS = 22;
/** After expiry the host answers 410 Gone (MEDIA-EXPIRY). */
export const EXPIRED_STATUS = 410;

/**
 * `count` documents, the last of them the first file again: the same file sent twice is two
 * uploads, each with a reference of its own (MEDIA-REFERENCE).
 */
async function sendSeveral(ctx: CheckContext, count: number): Promise<SentMedia[]> {
  const provider = await ctx.testbed.providerUser();
  const gatekeeperUser = await ctx.testbed.gatekeeperUser();
  const out: SentMedia[] = [];
  for (let i = 0; i < count; i++) {
    const again = i === count - 1 ? out[0]?.plaintext : undefined;
    const sent = await sendMedia(ctx, 'document', {
      provider,
      gatekeeperUser,
      ...(again ? { plaintext: again } : {}),
    });
    out.push(sent);
  }
  return out;
}

/**
 * The names a content-addressed store gives a file: SHA-256 of its bytes (fileSha256, computed here
 * from the bytes sent) in base64url, base64 without its `+/=`, and hex. Whoever holds the file can
 * compute them. A name from the blob's hash is no such leak (the blob is encrypted under a fresh
 * media key, and whatsmeow's `upload.go` `rawUpload` names an upload by its fileEncSha256), so it is
 * not judged.
 */
function contentNames(sent: SentMedia): { name: string; what: string }[] {
  const hash = hashOf(sent.plaintext);
  return [
    { name: hash.toString('base64url'), what: "the base64url of the file's SHA-256" },
    { name: hash.toString('base64').replace(/[+/=]/g, ''), what: "the base64 of the file's SHA-256" },
    { name: hash.toString('hex'), what: "the hex of the file's SHA-256" },
  ];
}

/** What `reference` is derived from among `sent`'s content names: equal to one, a cut of one, or holding one. */
function derivedFrom(reference: string, sent: SentMedia): string | undefined {
  const lower = reference.toLowerCase();
  return contentNames(sent).find(
    ({ name }) =>
      name.includes(reference) || name.includes(lower) || reference.includes(name.slice(0, MIN_REFERENCE_CHARS)),
  )?.what;
}

/** Positions at which two strings differ, over the shorter one. */
function differences(a: string, b: string): number {
  let n = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Swaps the case of each letter: base64url tells `a` from `A`, so this is another reference. */
const swapCase = (reference: string): string =>
  [...reference].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

/**
 * The references a stranger might guess from a genuine one (MEDIA-REFERENCE), each another
 * reference the host does not hold: a neighbour one character off, or the same letters in the
 * other case, which a host that keys its blobs case-insensitively would serve.
 */
const GUESSES = {
  neighbour: (sent: SentMedia, providerId: string) => neighbourOf(sent, providerId),
  'swapped-case': (sent: SentMedia, providerId: string) => guessedFrom(sent, providerId, swapCase),
} as const;
const GUESS_NAMES = Object.keys(GUESSES) as (keyof typeof GUESSES)[];

/**
 * MEDIA-REFERENCE: long, unrelated references, none named after its file's content (the same file
 * sent twice gets two), and a reference guessed from one (`guess`) is not served.
 */
export const unguessable = defineCheck(
  {
    name: 'media/fetch/unguessable-reference',
    params: paramsOf({ files: { type: 'integer', minimum: 2 }, guess: { enum: GUESS_NAMES } }),
  },
  async (ctx) => {
    const guess = choiceParam(ctx, 'guess', GUESS_NAMES, 'neighbour');
    const sent = await sendSeveral(ctx, numberParam(ctx, 'files', 3));
    if (!Array.isArray(sent)) return sent;
    const providerId = discoveryOf(ctx).providerId;
    const refs = sent.map((s) => storageReference(s.declared, providerId));
    const bare = sent.find((_, i) => refs[i] === undefined);
    if (bare) throw noStorageReference(bare.declared, providerId);
    const references = refs as string[];
    const expected = `storage references of at least ${MIN_REFERENCE_CHARS} random base64url characters (128 bits)`;
    const short = references.find((r) => r.length < MIN_REFERENCE_CHARS);
    if (short !== undefined) return notMet(expected, `"${short}", ${short.length} characters`);
    // A reference named after the file's content is guessable by whoever has the file.
    for (const [i, reference] of references.entries()) {
      const derived = derivedFrom(reference, sent[i] as SentMedia);
      if (derived !== undefined) return notMet(expected, `"${reference}", ${derived}`);
    }
    // Every pair, the first file and the same file sent again included.
    for (let i = 0; i < references.length; i++)
      for (let j = i + 1; j < references.length; j++) {
        const [a, b] = [references[i] as string, references[j] as string];
        const d = differences(a, b);
        const again = j === references.length - 1 && i === 0 ? ', for the same file sent twice' : '';
        // Independent random strings differ almost everywhere; a counter or a timestamp differs at its end.
        if (d < Math.min(a.length, b.length) / 2)
          return notMet(
            expected,
            `"${a}" and "${b}" differ in only ${d} of ${Math.min(a.length, b.length)} characters${again}`,
          );
      }
    const first = sent[0] as SentMedia;
    const guessed = GUESSES[guess](first, providerId);
    if (guessed.reference === references[0])
      throw new PreconditionError(`the reference "${guessed.reference}" has no letter whose case could change`);
    // A host that serves nothing would refuse the guess for the wrong reason: the genuine reference must be served.
    const genuine = await fetchSent(ctx, first);
    if (genuine.status !== 200)
      throw new PreconditionError(`the genuine reference was answered HTTP ${genuine.status}; MEDIA-FETCH judges that`);
    ctx.step(`the proxy fetches a guessed reference (${guess})`);
    const r = await fetchRaw(ctx, guessed.sent);
    if (r.error !== undefined || r.refused !== undefined)
      throw new PreconditionError(`the guessed reference could not be fetched at all: ${r.error ?? r.refused ?? ''}`);
    return r.status === 200
      ? notMet(
          'no blob for a reference guessed from a genuine one',
          `a blob served for the guessed reference "${guessed.reference}"`,
        )
      : met(`HTTP ${r.status} for the guessed reference`);
  },
);

/**
 * MEDIA-EXPIRY: once the provider's time to live has passed, the host answers 410, to a whole GET
 * and to a ranged one alike: a player streams a file by ranges, so a host that checks expiry on its
 * whole-file path only still serves the file.
 */
export const expiry = defineCheck({ name: 'media/fetch/expiry', changes: ['hosted-media'] }, async (ctx) => {
  const sent = await sendMedia(ctx, 'document');
  const before = await fetchSent(ctx, sent);
  if (before.status !== 200) return notMet('200 before expiry', `HTTP ${before.status}`);
  ctx.step('the driver expires the media');
  await ctx.providerWide.expireMedia();
  const range = `bytes=0-${Math.min(99, before.bytes - 1)}`;
  const asks = [
    { how: 'a GET', options: {} },
    { how: `a GET with Range: ${range}`, options: { range } },
  ];
  for (const { how, options } of asks) {
    const after = await fetchRaw(ctx, sent, options, `the media proxy fetches the blob with ${how}`);
    if (after.status === EXPIRED_STATUS) continue;
    const served = after.status === 200 || after.status === 206 ? ` and ${after.bytes} bytes` : '';
    return notMet(
      `${EXPIRED_STATUS} Gone after expiry, to a GET with or without a Range`,
      after.status === undefined
        ? (after.refused ?? after.error ?? 'no answer')
        : `HTTP ${after.status}${served} to ${how} after expiry`,
    );
  }
  return met();
});
