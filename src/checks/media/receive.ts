/**
 * The other direction (MEDIA-RECEIVE, MEDIA-RECEIVE-REFUSE): a gatekeeper user sends a file from the
 * gatekeeper's media host to a provider user. The host's log shows whether the client fetched the
 * blob; what the user was shown, and the events raised, come from the driver, the only window on a
 * screen. A corrupted variant must be fetched, refused with an event, and never shown.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { met, notMet, type Finding } from '../../core/model.js';
import type { Inbox, ReceivedMedia } from '../../protocol/driver-api.js';
import type { DriverUser, ProviderUser } from '../testbed.js';
import { mediaKind } from '../../protocol/media/enc-mediatype.js';
import { encodeMediaMessage } from '../../protocol/media/message.js';
import { MEDIA_TYPES, type MediaType } from '../../protocol/media/scheme.js';
import { pad, paddingLength } from '../../protocol/payload.js';
import { defineCheck, paramsOf, ANSWER_MS, choiceParam, numberParam, QUIET_MS, type CheckContext } from '../check.js';
import { group, CHATS, type Group } from '../scenarios/groups.js';
import type { GatekeeperUser } from '../../gatekeeper/types.js';
import { samplePlaintext } from './scenario.js';
import { hashOf, encryptMedia, type EncryptedMedia } from './encrypt.js';
import { PNG_SAMPLE, SAMPLES, type Sample } from './sniff.js';
import { LAYOUTS, oneOf } from './wire-fields.js';
import { unixSeconds } from '../../core/clock.js';

/** What the gatekeeper's media host serves in place of a sound blob, by the name a case gives in `params.variant`. */
export const VARIANTS = [
  'valid',
  'bad-mac',
  'wrong-enc-hash',
  'truncated',
  'wrong-plain-hash',
  'wrong-key',
  'wrong-length',
] as const;
export type Variant = (typeof VARIANTS)[number];
const POLL_MS = 150;

const flipFirst = (b: Buffer): Buffer => Buffer.concat([Buffer.of((b[0] ?? 0) ^ 0x01), b.subarray(1)]);

/** The blob to host and what to declare, for one variant: each breaks exactly one check of the receiver. */
export function corrupt(variant: Variant, s: EncryptedMedia): EncryptedMedia {
  switch (variant) {
    case 'valid':
      return s;
    case 'bad-mac': {
      const blob = Buffer.concat([s.blob.subarray(0, -1), Buffer.of((s.blob.at(-1) ?? 0) ^ 0x01)]);
      return { ...s, blob, fileEncSha256: hashOf(blob) };
    }
    case 'wrong-enc-hash':
      return { ...s, fileEncSha256: flipFirst(s.fileEncSha256) };
    case 'truncated': {
      // The MAC cut off: whole AES blocks remain, and the declared hash is theirs, so only the missing MAC tells.
      const blob = s.blob.subarray(0, -10);
      return { ...s, blob, fileEncSha256: hashOf(blob) };
    }
    case 'wrong-plain-hash':
      return { ...s, fileSha256: flipFirst(s.fileSha256) };
    case 'wrong-key':
      return { ...s, mediaKey: randomBytes(32) };
    case 'wrong-length':
      return s;
  }
}

/**
 * The fileLength a variant's message declares for a file of `plainLength` bytes: the file's own, or,
 * for `wrong-length`, one that is not (MEDIA-RECEIVE: a receiver need not check it, and one that
 * shows the file shows the length it decrypted).
 */
export const declaredLength = (variant: Variant, plainLength: number): number =>
  variant === 'wrong-length' ? plainLength + 4096 : plainLength;

/** The files a case can send in place of the type's own sample: a PNG (sent as a document, an image sent as a file). */
const FILES = { png: { sample: PNG_SAMPLE, fileName: 'sample.png' } } as const;
const FILE_NAMES = Object.keys(FILES) as (keyof typeof FILES)[];

/**
 * Puts `sent` on the gatekeeper's media host; the hosted blob, and the `Message` protobuf that
 * declares it (a file of `plainLength` bytes once decrypted).
 */
export function hostedMedia(
  ctx: CheckContext,
  type: MediaType,
  sent: EncryptedMedia,
  plainLength: number,
  file: { sample: Sample; fileName: string } = { sample: SAMPLES[type], fileName: 'sample.pdf' },
) {
  const hosted = ctx.testbed.gatekeeper.mediaHost.put(sent.blob);
  const message = encodeMediaMessage(type, {
    url: hosted.url,
    directPath: hosted.directPath,
    mimetype: file.sample.mimetype,
    mediaKey: sent.mediaKey,
    fileSha256: sent.fileSha256,
    fileEncSha256: sent.fileEncSha256,
    fileLength: plainLength,
    mediaKeyTimestamp: unixSeconds(ctx.clock),
    ...(type === 'document' ? { fileName: file.fileName } : {}),
    // The driver's audio is a voice note, and so is the gatekeeper's.
    ...(type === 'audio' ? { ptt: true } : {}),
  });
  return { hosted, message };
}

/** Where the gatekeeper user sends the file: to the provider user, or to a group of theirs (GROUP-IN). */
type Chat = (typeof CHATS)[number];

export const receive = defineCheck(
  {
    name: 'media/receive',
    params: paramsOf(
      {
        variant: { enum: VARIANTS },
        type: { enum: MEDIA_TYPES },
        chat: { enum: CHATS },
        // The file sent, when not the type's own sample: `png`, a PNG image (image/png), sent as a document say.
        file: { enum: FILE_NAMES },
        // How many such files the gatekeeper user sends, one after the other: each is judged on its own.
        files: { type: 'integer', minimum: 1, maximum: 3 },
      },
      ['variant', 'type'],
    ),
  },
  async (ctx) => {
    const variant = choiceParam(ctx, 'variant', VARIANTS);
    const type = choiceParam(ctx, 'type', MEDIA_TYPES);
    const chat: Chat = choiceParam(ctx, 'chat', CHATS, 'direct');
    const named = ctx.params['file'] === undefined ? undefined : choiceParam(ctx, 'file', FILE_NAMES);
    const file = named === undefined ? undefined : FILES[named];
    const files = numberParam(ctx, 'files', 1);
    const g = chat === 'group' ? await group(ctx) : undefined;
    const provider = g?.provider ?? (await ctx.testbed.providerUser());
    const gatekeeperUser = g?.members[0] ?? (await ctx.testbed.gatekeeperUser());
    for (let n = 1; n <= files; n++) {
      const nth = files === 1 ? '' : `${ORDINALS[n - 1] ?? `file ${n}`} `;
      const finding = await sendOne(ctx, { variant, type, nth, file, g, provider, gatekeeperUser });
      if (finding.verdict === 'not-met' || n === files)
        return finding.verdict === 'not-met' && nth !== ''
          ? notMet(finding.expected, `the ${nth}${type}: ${finding.actual}`)
          : finding;
    }
    throw new Error('unreachable: at least one file is sent');
  },
);

const ORDINALS = ['first', 'second', 'third'];

/** One file from the gatekeeper user to the provider user (or their group), judged (judgeShown). */
async function sendOne(
  ctx: CheckContext,
  about: {
    variant: Variant;
    type: MediaType;
    /** `second ` and so on when the case sends several files, or empty. */
    nth: string;
    file: { sample: Sample; fileName: string } | undefined;
    g: Group | undefined;
    provider: ProviderUser;
    gatekeeperUser: GatekeeperUser;
  },
): Promise<Finding> {
  const { variant, type, nth, file, g, provider, gatekeeperUser } = about;
  const sample = file?.sample ?? SAMPLES[type];
  const plaintext = samplePlaintext(ctx, type, undefined, sample);
  const encrypted = encryptMedia(plaintext, LAYOUTS[type].info);
  const { hosted, message } = hostedMedia(
    ctx,
    type,
    corrupt(variant, encrypted),
    declaredLength(variant, plaintext.length),
    file,
  );
  const known = (await provider.events()).length;
  ctx.step(
    `gatekeeper user sends a ${nth}${variant} ${type}${file ? ` (${sample.mimetype})` : ''}${g ? ' to the group' : ''}`,
  );
  const padded = pad(message, paddingLength(ctx.rng));
  const id = g
    ? gatekeeperUser.deliverGroup(await gatekeeperUser.encryptGroupPayload(g.jid, padded))
    : await gatekeeperUser.sendPayload(provider.login, padded, { media: mediaKind(type, { ptt: type === 'audio' }) });

  ctx.step('the provider client downloads the blob');
  const download = await ctx.testbed.gatekeeper.mediaHost.waitForDownload(hosted.reference, {
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  if (!download)
    return notMet(
      `the client to download the ${type} from the gatekeeper's media URL`,
      `no download within ${ANSWER_MS} ms`,
    );

  ctx.step('read what the user was shown');
  const { shown, failure } = await outcome(
    ctx,
    { user: provider, id, peer: gatekeeperUser.jid, known },
    variant === 'valid' || variant === 'wrong-length',
  );
  return judgeShown(
    {
      variant,
      type,
      id,
      peer: gatekeeperUser.jid,
      expectedHash: encrypted.fileSha256.toString('base64'),
      expectedLength: plaintext.length,
      expectedMimetype: sample.mimetype,
      ...(g ? { group: g.jid } : {}),
    },
    shown,
    failure,
  );
}

/**
 * MEDIA-RECEIVE (`valid`) and MEDIA-RECEIVE-REFUSE (the other variants), once the client fetched
 * the blob: what its user was shown of message `id` (the file's type, length and SHA-256, as the
 * client decrypted it, and its mimetype as the message declared it, byte for byte: parameters such
 * as a voice note's `codecs=opus` included), and the decryption failure it raised, if any.
 */
export function judgeShown(
  about: {
    variant: Variant;
    type: MediaType;
    id: string;
    peer: string;
    expectedHash: string;
    expectedLength: number;
    /** The mimetype the message declared, which the user must be shown unchanged. */
    expectedMimetype: string;
    /** The group the file was sent to, where it must be shown (GROUP-IN); none in a 1:1 chat. */
    group?: string;
  },
  shown:
    | {
        readonly media?: Pick<ReceivedMedia, 'type' | 'mimetype' | 'fileLength' | 'sha256'> | undefined;
        readonly group?: string | undefined;
        /** Who the user was shown the file from: the member who sent it, in a group too (GROUP-IN). */
        readonly from: string;
      }
    | undefined,
  failure: string | undefined,
): Finding {
  const { variant, type, id, peer, expectedHash, expectedLength, expectedMimetype, group } = about;
  if (variant === 'valid' || variant === 'wrong-length') {
    const where = group === undefined ? '' : ` in the group ${group}`;
    const expected = `the ${LAYOUTS[type].label} shown to the user${where} from ${peer} (inbox entry ${id}: ${oneOf(type)} of ${expectedLength} bytes, mimetype ${expectedMimetype}, with sha256 ${expectedHash})`;
    // MEDIA-RECEIVE: a receiver need not check a declared fileLength; one that refuses the file for it, with its event, may.
    if (variant === 'wrong-length') {
      const declared = `${expected}, the length it decrypted, not the fileLength its message declares; or the file refused with a decryption-failure event`;
      if (!shown && failure !== undefined) return met(`refused: ${failure}`);
      if (!shown) return notMet(declared, 'nothing shown, and no decryption-failure event');
      const finding = judgeShown({ ...about, variant: 'valid' }, shown, failure);
      return finding.verdict === 'not-met' ? notMet(declared, finding.actual) : finding;
    }
    if (!shown) return notMet(expected, `nothing shown${failure ? `; event decryption-failure: ${failure}` : ''}`);
    const media = shown.media;
    if (!media) return notMet(expected, 'an entry with no media');
    const wrong = [
      ...(media.type === type ? [] : [`type ${media.type}`]),
      ...(media.mimetype === expectedMimetype ? [] : [`mimetype ${media.mimetype}, not ${expectedMimetype}`]),
      ...(media.fileLength === expectedLength ? [] : [`fileLength ${media.fileLength}`]),
      ...(media.sha256 === expectedHash ? [] : [`sha256 ${media.sha256}`]),
      ...(shown.group === group
        ? []
        : [shown.group === undefined ? 'no group: shown in a 1:1 chat' : `group ${shown.group}`]),
      // In a group the sender is the member in `participant`, never the group in the stanza's `from`.
      ...(shown.from === peer ? [] : [`from ${shown.from}`]),
    ];
    return wrong.length === 0 ? met() : notMet(expected, `an entry with ${wrong.join(', ')}`);
  }
  const expected = `the ${variant} ${type} refused: nothing shown, a decryption-failure event raised`;
  if (shown) return notMet(expected, `the ${variant} ${type} shown to the user (inbox entry ${id})`);
  return failure !== undefined
    ? met(`refused: ${failure}`)
    : notMet(expected, `nothing shown, but no decryption-failure event from ${peer}`);
}

interface Shown {
  readonly shown: Inbox['messages'][number] | undefined;
  readonly failure: string | undefined;
}

/**
 * Polls the driver until the message is shown or a failure event from `peer` (after the first
 * `known` events) appears, or the deadline passes. A refusal is awaited a little past an event, in case the file shows up anyway.
 */
export async function outcome(
  ctx: CheckContext,
  about: { user: DriverUser; id: string; peer: string; known: number },
  wantShown: boolean,
): Promise<Shown> {
  const { user, id, peer, known } = about;
  const deadline = Date.now() + (wantShown ? ANSWER_MS : 2 * QUIET_MS);
  let failure: string | undefined;
  for (;;) {
    const [inbox, events] = await Promise.all([user.inbox(), user.events()]);
    const shown = inbox.find((m) => m.id === id);
    const event = events.slice(known).find((e) => e.type === 'decryption-failure' && e.peer === peer);
    failure = event ? (event.detail ?? '') : failure;
    if (shown || (failure !== undefined && wantShown) || Date.now() > deadline) return { shown, failure };
    if (failure !== undefined && !wantShown) {
      await sleep(POLL_MS * 2, undefined, { signal: ctx.signal });
      const again = await user.inbox();
      return { shown: again.find((m) => m.id === id), failure };
    }
    await sleep(POLL_MS, undefined, { signal: ctx.signal });
  }
}
