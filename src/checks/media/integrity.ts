/**
 * The blob the proxy fetched against what the message declares, verified independently of the
 * shared scheme (src/gatekeeper/media-verifier.ts): MEDIA-ENC-HASH, MEDIA-MAC, MEDIA-PLAIN-HASH,
 * MEDIA-LENGTH-MATCH, MEDIA-TYPE-MATCH and MEDIA-KEYS. Each judges its own rule only.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { MediaFetchResult, MediaVerdict } from '../../gatekeeper/types.js';
import { MEDIA_TYPES, type MediaType } from '../../protocol/media/scheme.js';
import { defineCheck, paramsOf, choiceParam, numberParam, type CheckContext } from '../check.js';
import { hashOf } from './encrypt.js';
import { fetchVerified, sendMedia, short, type SendOptions, type SentMedia } from './scenario.js';
import { essence, MP3_SAMPLE, sniff, WEBM_SAMPLE } from './sniff.js';
import { LAYOUTS, oneOf, type Declared } from './wire-fields.js';

/**
 * A file of `type` sent and its blob fetched and verified. Decrypted under the type's own keys, or,
 * with `asKeyed`, under the keys its MAC verifies under when those are another type's: whether the
 * info string is the type's own is MEDIA-KEYS's to judge, and the other rules judge the file the
 * provider encrypted, whatever it keyed it with.
 */
async function verified(
  ctx: CheckContext,
  type: MediaType,
  { asKeyed = true, ...parties }: { asKeyed?: boolean } & SendOptions = {},
): Promise<Verified> {
  const sent = await sendMedia(ctx, type, parties);
  const first = verdictOf(await fetchVerified(ctx, sent));
  const keyedWith = first.macVerifiesUnder[0];
  if (!asKeyed || keyedWith === undefined || keyedWith === LAYOUTS[type].info) return { sent, verdict: first };
  ctx.note(`the MAC verifies under "${keyedWith}", not "${LAYOUTS[type].info}": decrypting under the former`);
  return { sent, verdict: verdictOf(await fetchVerified(ctx, sent, keyedWith)) };
}

interface Verified {
  readonly sent: SentMedia;
  readonly verdict: MediaVerdict;
  /** What the file is, in a verdict, when the type's name does not say it (an MP3 sent as audio). */
  readonly label?: string;
}

/**
 * A file of each type, from one provider user to one gatekeeper user, each fetched and verified:
 * the rules hold for every type, and a client that gets one type's hash, length or mimetype wrong
 * (a video uploaded through a path of its own, an image's type named after its extension) gets
 * the others right.
 */
async function verifiedEach(ctx: CheckContext, size?: number): Promise<Verified[]> {
  const provider = await ctx.testbed.providerUser();
  const gatekeeperUser = await ctx.testbed.gatekeeperUser();
  const each: Verified[] = [];
  for (const type of MEDIA_TYPES)
    each.push(await verified(ctx, type, { provider, gatekeeperUser, ...(size === undefined ? {} : { size }) }));
  return each;
}

/** A rule judged on a file of each type: met when it holds for all, else every type it fails for, named. */
function judgeEach(each: readonly Verified[], judge: (v: Verified) => Finding): Finding {
  const wrong: string[] = [];
  let expected = '';
  for (const v of each) {
    const finding = judge(v);
    if (finding.verdict !== 'not-met') continue;
    expected = finding.expected;
    wrong.push(`the ${v.label ?? LAYOUTS[v.sent.type].label}: ${finding.actual}`);
  }
  return wrong.length === 0
    ? met(`${each.length} files`)
    : notMet(`${expected}, for every media type`, wrong.join('; '));
}

/** What the proxy learned of a blob it fetched whole; any other answer leaves the case without a verdict. */
function verdictOf(r: MediaFetchResult): MediaVerdict {
  if (r.status !== 200 || !r.verdict)
    throw new PreconditionError(`the media host answered HTTP ${r.status ?? '?'} to the proxy`);
  return r.verdict;
}

const equal = (a: Uint8Array, b: Uint8Array | undefined): boolean =>
  b !== undefined && Buffer.from(a).equals(Buffer.from(b));

/** MEDIA-ENC-HASH */
export const encHash = defineCheck({ name: 'media/integrity/enc-hash' }, async (ctx) =>
  judgeEach(await verifiedEach(ctx), (v) => judgeEncHash(v.sent.declared, v.verdict)),
);

/** MEDIA-ENC-HASH, on what a media message declares and what the proxy fetched. */
export function judgeEncHash({ fileEncSha256: declared }: Declared, verdict: MediaVerdict): Finding {
  const expected = 'fileEncSha256 equal to the SHA-256 of the blob served, MAC included';
  if (!declared) return notMet(expected, 'no fileEncSha256 declared');
  return equal(verdict.encSha256, declared)
    ? met()
    : notMet(
        expected,
        `the ${verdict.blobBytes}-byte blob hashes to ${short(verdict.encSha256)}, fileEncSha256 says ${short(declared)}`,
      );
}

/** MEDIA-MAC */
export const mac = defineCheck({ name: 'media/integrity/mac' }, async (ctx) =>
  judgeEach(await verifiedEach(ctx), (v) => judgeMac(v.verdict, v.sent.type)),
);

/**
 * MEDIA-MAC, on what the proxy fetched of a file of `type`. A MAC that verifies under another
 * type's keys is computed as the scheme says; the info string is MEDIA-KEYS's to judge.
 */
export function judgeMac(verdict: MediaVerdict, type: MediaType): Finding {
  const info = LAYOUTS[type].info;
  const under = verdict.macVerifiesUnder;
  if (under.includes(info)) return met();
  if (under[0] !== undefined) return met(`the MAC verifies under the keys of "${under[0]}" (MEDIA-KEYS judges which)`);
  return notMet(
    `the last 10 bytes to be HMAC-SHA256(macKey, IV ‖ ciphertext) under "${info}"`,
    `a MAC that does not verify over ${verdict.blobBytes - 10} bytes of ciphertext`,
  );
}

/** MEDIA-PLAIN-HASH */
export const plainHash = defineCheck({ name: 'media/integrity/plaintext-hash' }, async (ctx) =>
  judgeEach(await verifiedEach(ctx), (v) => judgePlainHash(v.sent.declared, v.verdict)),
);

/** MEDIA-PLAIN-HASH, on what a media message declares and what the proxy fetched. */
export function judgePlainHash(declared: Declared, verdict: MediaVerdict): Finding {
  const expected = 'fileSha256 equal to the SHA-256 of the decrypted file';
  if (verdict.decryptError) return notMet(expected, `a blob that does not decrypt: ${verdict.decryptError}`);
  if (!declared.fileSha256) return notMet(expected, 'no fileSha256 declared');
  return equal(verdict.plainSha256, declared.fileSha256)
    ? met()
    : notMet(
        expected,
        `the file decrypts to ${short(verdict.plainSha256)}, fileSha256 says ${short(declared.fileSha256)}`,
      );
}

/**
 * MEDIA-LENGTH-MATCH. With `size`, each file is given to the driver as its sample and a size larger
 * than it (the filler up to it, docs/DRIVER-API.md): the length is the file's, not the content's.
 */
export const lengthMatch = defineCheck(
  { name: 'media/integrity/length', params: paramsOf({ size: { type: 'integer', minimum: 1, maximum: 1048576 } }) },
  async (ctx) => {
    const size = ctx.params['size'] === undefined ? undefined : numberParam(ctx, 'size', 0);
    return judgeEach(await verifiedEach(ctx, size), (v) => judgeLengthMatch(v.sent.declared, v.verdict));
  },
);

/** MEDIA-LENGTH-MATCH, on what a media message declares and what the proxy fetched. */
export function judgeLengthMatch({ fileLength }: Declared, verdict: MediaVerdict): Finding {
  const expected = 'fileLength equal to the length of the decrypted file';
  if (verdict.decryptError) return notMet(expected, `a blob that does not decrypt: ${verdict.decryptError}`);
  return fileLength === verdict.plainLength
    ? met()
    : notMet(expected, `the file decrypts to ${verdict.plainLength} bytes, fileLength says ${fileLength ?? 'nothing'}`);
}

/**
 * MEDIA-TYPE-MATCH, on a file of each type, an MP3 sent as audio and a WebM sent as video: a client
 * that names every audio file after the voice note's Opus gets the voice-note sample right, and the
 * MP3 wrong; one that names every video MP4 gets the MP4 right, and the WebM wrong.
 */
export const typeMatch = defineCheck({ name: 'media/integrity/mimetype' }, async (ctx) => {
  const each = await verifiedEach(ctx);
  const { provider, gatekeeperUser } = (each[0] as Verified).sent;
  const mp3 = await verified(ctx, 'audio', { provider, gatekeeperUser, sample: MP3_SAMPLE });
  const webm = await verified(ctx, 'video', { provider, gatekeeperUser, sample: WEBM_SAMPLE });
  return judgeEach([...each, { ...mp3, label: 'MP3 sent as audio' }, { ...webm, label: 'WebM sent as video' }], (v) =>
    judgeTypeMatch(v.sent.declared, v.verdict),
  );
});

/** MEDIA-TYPE-MATCH, on what a media message declares and what the proxy fetched. */
export function judgeTypeMatch({ mimetype }: Declared, verdict: MediaVerdict): Finding {
  const declared = mimetype ?? '';
  const sniffed = sniff(verdict.head);
  const expected = "a mimetype matching the decrypted file's signature";
  if (!sniffed)
    return notMet(
      expected,
      `a file whose first bytes match no known signature (${verdict.head.subarray(0, 8).toString('hex')})`,
    );
  return essence(declared) === sniffed
    ? met()
    : notMet(expected, `mimetype ${declared || '(none)'} for a file that sniffs as ${sniffed}`);
}

/**
 * MEDIA-KEYS: a file of each type the profile names, decrypted by the harness with the declared
 * mediaKey under its own type's info string, must verify and decrypt to the file the driver was given.
 */
export const keys = defineCheck(
  { name: 'media/integrity/keys', params: paramsOf({ type: { enum: MEDIA_TYPES } }, ['type']) },
  async (ctx) => {
    const type = choiceParam(ctx, 'type', MEDIA_TYPES);
    const v = await verified(ctx, type, { asKeyed: false });
    return judgeKeys(v.verdict, type, hashOf(v.sent.plaintext));
  },
);

/**
 * MEDIA-KEYS, on what the proxy fetched of a file of `type`, decrypted under its own keys; with
 * `sentSha256`, the SHA-256 of the file the sender was given, which the blob must decrypt to.
 */
export function judgeKeys(verdict: MediaVerdict, type: MediaType, sentSha256?: Uint8Array): Finding {
  const own = LAYOUTS[type].info;
  const under = verdict.macVerifiesUnder;
  const expected = `${oneOf(type)} blob keyed with HKDF info "${own}"${sentSha256 ? ', decrypting to the file sent' : ''}`;
  if (under.includes(own) && !verdict.decryptError) {
    if (sentSha256 === undefined || equal(verdict.plainSha256, sentSha256)) return met();
    return notMet(
      expected,
      `a blob that verifies under "${own}" but decrypts to ${verdict.plainLength} bytes hashing to ${short(verdict.plainSha256)}, not to the file sent (${short(sentSha256)})`,
    );
  }
  if (under.length > 0)
    return notMet(expected, `a blob whose MAC verifies only under keys derived with "${under.join('", "')}"`);
  return notMet(
    expected,
    `a blob whose MAC verifies under no media type's keys${verdict.decryptError ? ` and that does not decrypt (${verdict.decryptError})` : ''}`,
  );
}
