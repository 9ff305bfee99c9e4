/** The media message a provider's client sends, read at the profile's field numbers (MEDIA-FIELDS, MEDIA-PATH, MEDIA-KEY-TIME), its padding (PAYLOAD-PADDING) and its `<enc>` (ENC-MEDIATYPE). */
import type { Clock } from '../../core/clock.js';
import { met, notApplicable, notMet, type Finding } from '../../core/model.js';
import type { StanzaNode } from '../../protocol/node.js';
import { MAX_CLOCK_SKEW_S } from '../../protocol/constants.js';
import { MEDIA_TYPES, type MediaType } from '../../protocol/media/scheme.js';
import { defineCheck, paramsOf, choiceParam, type CheckContext } from '../check.js';
import { judgeClockField } from '../time.js';
import { judgePadding } from '../message-shape.js';
import { PreconditionError } from '../../core/errors.js';
import type { GatekeeperUser } from '../../gatekeeper/types.js';
import { child } from '../../protocol/node.js';
import { outgoingEnc } from '../../protocol/stanzas.js';
import { elementsOf, lastSeq, sends } from '../observe.js';
import type { ProviderUser } from '../testbed.js';
import { discoveryOf, sendMedia, storageReference } from './scenario.js';
import { LAYOUTS, type Declared, type DeclaredField } from './wire-fields.js';
import { MP3_SAMPLE } from './sniff.js';
import { askResend } from '../scenarios/conversation.js';

const HASH_BYTES = 32;

function typeParam(ctx: CheckContext): MediaType {
  return choiceParam(ctx, 'type', MEDIA_TYPES, 'image');
}

/** MEDIA-FIELDS: every field the receiver needs, at its type's numbers, with the right sizes. */
export const messageFields = defineCheck(
  {
    name: 'media/message',
    // `file: mp3`: an MP3 in place of the type's sample, a voice note in a format other than Opus say.
    params: paramsOf({ type: { enum: MEDIA_TYPES }, file: { enum: ['mp3'] } }),
  },
  async (ctx) => {
    const type = typeParam(ctx);
    const sent = await sendMedia(ctx, type, ctx.params['file'] === 'mp3' ? { sample: MP3_SAMPLE } : {});
    return judgeMediaFields(sent.declared);
  },
);

/** MEDIA-FIELDS, on what a media message declares at its type's field numbers. */
export function judgeMediaFields(declared: Declared): Finding {
  const layout = LAYOUTS[declared.type];
  const expected = `a ${layout.name} (${layout.message}) with mediaKey (${layout.fields.mediaKey}), fileSha256 (${layout.fields.fileSha256}), fileEncSha256 (${layout.fields.fileEncSha256}), fileLength (${layout.fields.fileLength}), mimetype (${layout.fields.mimetype}) and directPath (${layout.fields.directPath})${layout.fields.fileName ? `, fileName (${layout.fields.fileName})` : ''}${layout.fields.ptt ? `, ptt (${layout.fields.ptt}) true` : ''}`;
  const problem = missingField(declared);
  return problem ? notMet(expected, `${problem}; fields present: ${declared.present.join(', ')}`) : met();
}

/**
 * PAYLOAD-PADDING on a media message: its `Message` is padded as a text's is. The media path builds
 * its own `Message`, so a client can pad its texts and forget the padding here.
 */
export const mediaPadding = defineCheck(
  { name: 'media/message/padding', params: paramsOf({ type: { enum: MEDIA_TYPES } }) },
  async (ctx) => {
    const sent = await sendMedia(ctx, typeParam(ctx));
    return judgePadding([{ plaintext: sent.payload, decryptError: undefined }], `${sent.type} message`);
  },
);

/** MEDIA-PATH: the download path names the provider and the storage reference. */
export const downloadPath = defineCheck({ name: 'media/message/download-path' }, async (ctx) => {
  const sent = await sendMedia(ctx, 'document');
  return judgeDownloadPath(sent.declared, discoveryOf(ctx).providerId);
});

/** MEDIA-PATH, on what a media message declares, for the provider `providerId`. */
export function judgeDownloadPath(declared: Declared, providerId: string): Finding {
  if (storageReference(declared, providerId) !== undefined) return met();
  return notMet(
    `directPath /interop/whatsapp/download/${providerId}/{storage reference}/`,
    `directPath ${JSON.stringify(declared.directPath ?? '')}`,
  );
}

/** Which sends ENC-MEDIATYPE judges: the first send of one file of each type, or an image's re-send. */
const MEDIATYPE_SENDS = ['first', 'resend'] as const;

/**
 * ENC-MEDIATYPE: the provider user sends one file of each type, and each `<enc>` must name its kind
 * with the lineage's value; every type that does not is named. With `send: resend`, an image is
 * asked for again by a retry receipt, and the re-send's `<enc>` must name it too: a client that
 * re-sends from the stored plaintext rebuilds the stanza, and can lose the attribute.
 */
export const encMediatype = defineCheck(
  { name: 'media/message/enc-mediatype', params: paramsOf({ send: { enum: MEDIATYPE_SENDS } }) },
  async (ctx) => {
    const provider = await ctx.testbed.providerUser();
    const gatekeeperUser = await ctx.testbed.gatekeeperUser();
    if (choiceParam(ctx, 'send', MEDIATYPE_SENDS, 'first') === 'resend')
      return judgeEncMediatypes([{ type: 'image', enc: await resentEnc(ctx, provider, gatekeeperUser) }], 're-send');
    const encs: { type: MediaType; enc: StanzaNode | undefined }[] = [];
    for (const type of MEDIA_TYPES) {
      const sent = await sendMedia(ctx, type, { provider, gatekeeperUser });
      encs.push({ type, enc: sent.enc });
    }
    return judgeEncMediatypes(encs);
  },
);

/** An image sent, a retry receipt for it from its recipient, and the `<enc>` of the re-send as the client sent it. */
async function resentEnc(
  ctx: CheckContext,
  provider: ProviderUser,
  gatekeeperUser: GatekeeperUser,
): Promise<StanzaNode | undefined> {
  const sent = await sendMedia(ctx, 'image', { provider, gatekeeperUser });
  if (sent.id === undefined)
    throw new PreconditionError('the media message had no id, so no retry receipt can name it');
  const before = lastSeq(provider.connection);
  askResend(ctx, { provider, gatekeeperUser }, sent.id, 1);
  const frame = await ctx.testbed.frameFrom(provider.connection, sends('message'), { afterSeq: before });
  const message = frame && elementsOf(frame).find((n) => n.tag === 'message' && n.attrs['id'] === sent.id);
  if (!message)
    throw new PreconditionError(
      `no re-send of ${sent.id} came after the retry receipt; RETRY-RESEND judges that, ENC-MEDIATYPE the re-send's <enc>`,
    );
  return outgoingEnc(message) ?? child(message, 'enc');
}

/** ENC-MEDIATYPE, on the `<enc>` of one media message of each type, as the client sent them; `of` says which send, when not the first. */
export function judgeEncMediatypes(
  encs: readonly { type: MediaType; enc: StanzaNode | undefined }[],
  of?: string,
): Finding {
  const wrong: string[] = [];
  const what = (type: MediaType): string => `the <enc> of the ${LAYOUTS[type].label}${of ? `'s ${of}` : ''}`;
  for (const { type, enc } of encs) {
    const seen = enc?.attrs['mediatype'];
    if (seen === undefined) wrong.push(`no mediatype on ${what(type)}`);
    else if (seen !== LAYOUTS[type].mediatype) wrong.push(`mediatype="${seen}" on ${what(type)}`);
  }
  const expected = encs.map(({ type }) => `mediatype="${LAYOUTS[type].mediatype}" on ${what(type)}`).join(', ');
  return wrong.length === 0 ? met() : notMet(expected, wrong.join('; '));
}

/**
 * MEDIA-KEY-TIME: the provider user sends one file of each type, and each mediaKeyTimestamp it sets
 * must be its clock in seconds; a type whose message carries none is not judged (whatsmeow sets none).
 */
export const keyTime = defineCheck({ name: 'media/message/key-time' }, async (ctx) => {
  const provider = await ctx.testbed.providerUser();
  const gatekeeperUser = await ctx.testbed.gatekeeperUser();
  const declared: Declared[] = [];
  for (const type of MEDIA_TYPES) declared.push((await sendMedia(ctx, type, { provider, gatekeeperUser })).declared);
  return judgeKeyTimes(declared, ctx.clock);
});

/** MEDIA-KEY-TIME, on media messages as sent, judged by `clock` as STANZA-TIME judges a `t`; every wrong type is named. */
function judgeKeyTimes(declared: readonly Declared[], clock: Clock): Finding {
  const timed = declared.filter((d) => d.mediaKeyTimestamp !== undefined);
  if (timed.length === 0)
    return notApplicable('no media message sent carries a mediaKeyTimestamp, which MAY be left out');
  const wrong: string[] = [];
  for (const d of timed) {
    const { name, fields } = LAYOUTS[d.type];
    const at = `the ${name} (field ${fields.mediaKeyTimestamp ?? '?'})`;
    const finding = judgeClockField('mediaKeyTimestamp', String(d.mediaKeyTimestamp), clock, at);
    if (finding.verdict === 'not-met') wrong.push(finding.actual);
  }
  const expected = `a mediaKeyTimestamp in Unix seconds within ${MAX_CLOCK_SKEW_S} s of the gatekeeper's clock on ${timed.map((d) => `the ${LAYOUTS[d.type].name}`).join(', ')}`;
  return wrong.length === 0 ? met(`${timed.length} media types, in seconds`) : notMet(expected, wrong.join('; '));
}

/** What the second image of MEDIA-KEY-FRESH is: [1] another file, or [2] the first one sent again. */
const SECOND_FILES = ['another', 'same'] as const;

/**
 * MEDIA-KEY-FRESH: two images sent one after the other, each under a media key of its own, and so
 * each its own blob, even when the second is the same file again (a client that deduplicates
 * uploads by content would send the earlier key).
 */
export const freshKey = defineCheck(
  { name: 'media/message/fresh-key', params: paramsOf({ file: { enum: SECOND_FILES } }) },
  async (ctx) => {
    const file = choiceParam(ctx, 'file', SECOND_FILES, 'another');
    const first = await sendMedia(ctx, 'image');
    const second = await sendMedia(ctx, 'image', {
      provider: first.provider,
      gatekeeperUser: first.gatekeeperUser,
      ...(file === 'same' ? { plaintext: first.plaintext } : {}),
    });
    return judgeFreshKeys([first.declared, second.declared], file === 'same' ? 'the same image sent twice' : undefined);
  },
);

/**
 * MEDIA-KEY-FRESH, on what media messages sent one after the other declare; a key is never quoted
 * (it is a secret); `of` says what the messages are, when it matters. A message without a key at its type's number is MEDIA-FIELDS' finding, and
 * leaves nothing to compare here.
 */
export function judgeFreshKeys(declared: readonly Declared[], of?: string): Finding {
  const expected = `a mediaKey of its own in each of the ${declared.length} media messages${of ? ` of ${of}` : ''}`;
  const seen = new Map<string, number>();
  for (const [n, d] of declared.entries()) {
    if (!d.mediaKey) return notApplicable(`media message ${n + 1} carries no mediaKey to compare (MEDIA-FIELDS)`);
    const key = Buffer.from(d.mediaKey).toString('hex');
    const earlier = seen.get(key);
    if (earlier !== undefined)
      return notMet(
        expected,
        `media message ${n + 1} reuses the mediaKey of media message ${earlier + 1}${of ? ` (${of})` : ''}`,
      );
    seen.set(key, n);
  }
  return met(`${declared.length} media messages, ${declared.length} keys`);
}

/** The first required field that is missing or of the wrong size, named with its number. */
function missingField(d: Declared): string | undefined {
  const layout = LAYOUTS[d.type];
  const at = (f: DeclaredField): string => `${f} at field ${layout.fields[f] ?? '?'}`;
  const sizes: [DeclaredField, Uint8Array | undefined][] = [
    ['mediaKey', d.mediaKey],
    ['fileSha256', d.fileSha256],
    ['fileEncSha256', d.fileEncSha256],
  ];
  for (const [name, value] of sizes) {
    if (!value) return `no ${at(name)}`;
    if (value.length !== HASH_BYTES) return `${at(name)} has ${value.length} bytes, not ${HASH_BYTES}`;
  }
  if (d.fileLength === undefined) return `no ${at('fileLength')}`;
  if (!d.mimetype) return `no ${at('mimetype')}`;
  if (!d.directPath) return `no ${at('directPath')}`;
  if (layout.fields.fileName !== undefined && !d.fileName) return `no ${at('fileName')}`;
  // The driver's audio is a voice note: without ptt its receiver plays it as a music file.
  if (layout.fields.ptt !== undefined && d.ptt !== true)
    return `${d.ptt === undefined ? 'no' : 'false'} ${at('ptt')}, so no voice note`;
  return undefined;
}
