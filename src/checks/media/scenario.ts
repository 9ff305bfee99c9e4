/**
 * The exchanges the media checks observe. Outbound: a provider user sends a file to a gatekeeper
 * user; the check reads the media message the gatekeeper user decrypted, then has the gatekeeper's
 * proxy fetch the blob from the provider's media host. What the driver answers only says when to
 * look.
 */
import { createHash } from 'node:crypto';
import { ProviderViolation, InternalError, PreconditionError } from '../../core/errors.js';
import type { MediaFetch, MediaFetchResult, GatekeeperUser } from '../../gatekeeper/types.js';
import { toBase64 } from '../../protocol/base64.js';
import type { Discovery } from '../../protocol/driver-api.js';
import { contentStream } from '../../protocol/media/content.js';
import { blobLength, type MediaType } from '../../protocol/media/scheme.js';
import { child, type StanzaNode } from '../../protocol/node.js';
import { unpad } from '../../protocol/payload.js';
import { outgoingEnc } from '../../protocol/stanzas.js';
import { ANSWER_MS, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';
import { elementsOf, lastSeq, noneBefore, sends } from '../observe.js';
import { decryptedPlaintext } from '../scenarios/exchange.js';
import { SAMPLES, type Sample } from './sniff.js';
import { LAYOUTS, readDeclared, type Declared } from './wire-fields.js';

/** Small enough for a quick case, large enough for many AES blocks and several TCP segments. */
export const SAMPLE_BYTES = 3000;

export interface SentMedia {
  readonly provider: ProviderUser;
  readonly gatekeeperUser: GatekeeperUser;
  readonly type: MediaType;
  /** The content the harness gave the driver: the whole file, or its start when `size` is larger. */
  readonly plaintext: Buffer;
  /** The file's length in bytes. */
  readonly size: number;
  readonly declared: Declared;
  /** The media message's plaintext as the gatekeeper user decrypted it, padding and all. */
  readonly payload: Uint8Array;
  /** The `<enc>` of the `<message>` as the client sent it. */
  readonly enc: StanzaNode | undefined;
  /** The `<message>`'s id, for a retry receipt to name. */
  readonly id: string | undefined;
}

/** A sample file of `type` (or of `sample`'s kind): its signature, then seeded random bytes. */
export function samplePlaintext(
  ctx: CheckContext,
  type: MediaType,
  size = SAMPLE_BYTES,
  sample: Sample = SAMPLES[type],
): Buffer {
  const head = Buffer.from(sample.head);
  const tail = Buffer.alloc(Math.max(0, size - head.length));
  for (let i = 0; i < tail.length; i++) tail[i] = ctx.rng.int(0, 256);
  return Buffer.concat([head, tail]);
}

export function discoveryOf(ctx: CheckContext): Discovery {
  const d = ctx.testbed.gatekeeper.mediaProxy.provider;
  if (!d) throw new InternalError('the gatekeeper has no discovery document');
  return d;
}

/** Who sends a file to whom, and how large the file is. */
export interface SendOptions {
  readonly provider?: ProviderUser;
  readonly gatekeeperUser?: GatekeeperUser;
  /** The file's length: the sample, then the filler of src/protocol/media/content.ts up to it. */
  readonly size?: number;
  /** The content to send again (an earlier `SentMedia`'s); a new sample otherwise. */
  readonly plaintext?: Buffer;
  /** The kind of file sent, named by its mimetype to the driver: the type's own sample unless given. */
  readonly sample?: Sample;
}

/**
 * The provider user sends one file to a gatekeeper user. Resolves with what the message declares;
 * a message that is not a readable media message of `type` is the provider's violation. A client
 * that refuses a small sample leaves the case without a verdict.
 */
export async function sendMedia(ctx: CheckContext, type: MediaType, options: SendOptions = {}): Promise<SentMedia> {
  const sent = await sendFile(ctx, type, options);
  if ('refused' in sent)
    throw new PreconditionError(`the client refused to send a ${sent.size}-byte ${type}: ${sent.refused}`);
  return sent;
}

/** `sendMedia`, with the client's refusal as it answered it: for the checks that judge the refusal. */
export async function sendFile(
  ctx: CheckContext,
  type: MediaType,
  options: SendOptions = {},
): Promise<SentMedia | { refused: string; size: number }> {
  const provider = options.provider ?? (await ctx.testbed.providerUser());
  const gatekeeperUser = options.gatekeeperUser ?? (await ctx.testbed.gatekeeperUser());
  const sample = options.sample ?? SAMPLES[type];
  const plaintext = options.plaintext ?? samplePlaintext(ctx, type, SAMPLE_BYTES, sample);
  const size = Math.max(options.size ?? 0, plaintext.length);
  const before = lastSeq(provider.connection);
  const earlier = new Set(gatekeeperUser.deliveries);
  ctx.step(`provider sends a ${size > plaintext.length ? `${size}-byte ` : ''}${type}`);
  const answer = await provider.sendMedia({
    to: gatekeeperUser.jid,
    type,
    mimetype: sample.mimetype,
    content: toBase64(plaintext),
    ...(size > plaintext.length ? { size } : {}),
    ...(type === 'document' ? { fileName: 'sample.pdf' } : {}),
  });
  if ('refused' in answer) return { refused: answer.refused, size };
  const frame = await ctx.testbed.frameFrom(provider.connection, sends('message'), { afterSeq: before });
  if (!frame)
    throw new PreconditionError(
      `the driver accepted a media send, but ${noneBefore('no <message> came', provider.connection.closed)}`,
    );
  ctx.step(`gatekeeper user receives the ${type}`);
  const delivery = await gatekeeperUser.waitForDelivery((d) => !earlier.has(d), {
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  const decrypted = decryptedPlaintext(delivery, `${type} message`);
  const unpadded = unpad(decrypted);
  const declared = readDeclared(unpadded.ok ? unpadded.bytes : decrypted, type);
  if (typeof declared === 'string')
    throw new ProviderViolation(`a ${LAYOUTS[type].name} (field ${LAYOUTS[type].message}) in the Message`, declared);
  const message = elementsOf(frame).find((n) => n.tag === 'message');
  const enc = message && (outgoingEnc(message) ?? child(message, 'enc'));
  return {
    provider,
    gatekeeperUser,
    type,
    plaintext,
    size,
    declared,
    payload: decrypted,
    enc,
    id: message?.attrs['id'],
  };
}

/** SHA-256 of the file sent, filler included, hashed as it streams. */
export async function sentSha256(sent: SentMedia): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of contentStream(sent.plaintext, sent.size)) hash.update(chunk as Buffer);
  return hash.digest();
}

/** The storage reference in a download path `/interop/whatsapp/download/{provider id}/{reference}/` (MEDIA-PATH). */
export function storageReference(declared: Declared, providerId: string): string | undefined {
  const prefix = `/interop/whatsapp/download/${providerId}/`;
  const path = declared.directPath ?? '';
  if (!path.startsWith(prefix) || !path.endsWith('/')) return undefined;
  const reference = path.slice(prefix.length, -1);
  return /^[A-Za-z0-9_-]+$/.test(reference) ? reference : undefined;
}

/**
 * A storage reference one character off the sent file's, which the host does not hold (MEDIA-REFERENCE),
 * and the sent file as though its message named that reference instead, for `fetchRaw`.
 */
export function neighbourOf(sent: SentMedia, providerId: string): { reference: string; sent: SentMedia } {
  // A digit, which has no case: the neighbour is another reference even to a host that ignores case.
  return guessedFrom(sent, providerId, (own) => `${own.slice(0, -1)}${own.endsWith('0') ? '1' : '0'}`);
}

/** `sent` with its download path naming the reference `guess` makes of its own storage reference. */
export function guessedFrom(
  sent: SentMedia,
  providerId: string,
  guess: (own: string) => string,
): { reference: string; sent: SentMedia } {
  const own = storageReference(sent.declared, providerId);
  if (own === undefined) throw noStorageReference(sent.declared, providerId);
  const reference = guess(own);
  const directPath = `/interop/whatsapp/download/${providerId}/${reference}/`;
  return { reference, sent: { ...sent, declared: { ...sent.declared, directPath } } };
}

/**
 * What the proxy refuses to fetch (no https, an origin the discovery document does not declare) is
 * the provider's doing: MEDIA-FETCH's own cases judge each refusal, every other case fails through it.
 */
export const refusedFetch = (refusal: string): ProviderViolation =>
  new ProviderViolation("the media proxy's fetch of the blob", `the gatekeeper refused to fetch the blob: ${refusal}`);

/** A download path with no storage reference in it (MEDIA-PATH) leaves the gatekeeper nothing to fetch. */
export const noStorageReference = (declared: Declared, providerId: string): ProviderViolation =>
  new ProviderViolation(
    `a download path /interop/whatsapp/download/${providerId}/{reference}/ (MEDIA-PATH)`,
    `the gatekeeper refused the download path ${JSON.stringify(declared.directPath ?? '')}: it names no storage reference`,
  );

/** The proxy fetches the blob of a sent file; a refusal, or a host that broke off, fails the case (fetchFailed). */
export async function fetchSent(
  ctx: CheckContext,
  sent: SentMedia,
  options: Partial<MediaFetch> = {},
): Promise<MediaFetchResult> {
  const result = await fetchRaw(ctx, sent, options);
  if (result.refused) throw refusedFetch(result.refused);
  if (result.error) throw fetchFailed(result);
  return result;
}

/**
 * A fetch that failed at the transport: the provider's failure when its host went silent or dropped
 * the connection, which the proxy tells apart; otherwise the case cannot decide.
 */
export const fetchFailed = (result: MediaFetchResult, what = 'the media fetch failed'): Error =>
  result.byHost
    ? new ProviderViolation(
        "the media host's whole answer to the proxy's fetch, within the fetch's deadline",
        `${MEDIA_HOST_FAILED} ${result.error ?? ''}`,
      )
    : new PreconditionError(`${what}: ${result.error ?? ''}`);

/** The start of the verdict of a fetch the media host left unanswered or broke off, whatever the case. */
export const MEDIA_HOST_FAILED = 'the media host broke off or never finished its answer to the fetch:';

/** The proxy's fetch as it went, refusals included: for the checks that judge those. */
export async function fetchRaw(
  ctx: CheckContext,
  sent: SentMedia,
  options: Partial<MediaFetch> = {},
  step = 'the media proxy fetches the blob',
): Promise<MediaFetchResult> {
  ctx.step(step);
  const reference = storageReference(sent.declared, discoveryOf(ctx).providerId);
  if (reference === undefined) throw noStorageReference(sent.declared, discoveryOf(ctx).providerId);
  // The proxy reads no more than the largest blob the announced limit allows (MEDIA-LIMITS).
  const limit = discoveryOf(ctx).mediaLimits?.[sent.type];
  return ctx.testbed.gatekeeper.mediaProxy.fetch({
    reference,
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
    ...(limit === undefined ? {} : { maxBytes: blobLength(limit) }),
    ...options,
  });
}

/** The info strings a blob of `type` is verified under: its own first, then the other types', to name a mix-up. */
export function verifyInfos(type: MediaType): string[] {
  const own = LAYOUTS[type].info;
  return [
    own,
    ...Object.values(LAYOUTS)
      .map((l) => l.info)
      .filter((i) => i !== own),
  ];
}

/**
 * Fetches and verifies under the type's keys (and the other types', to name a mix-up). With
 * `decryptUnder`, the blob is decrypted under that info string instead of the type's own.
 */
export function fetchVerified(
  ctx: CheckContext,
  sent: SentMedia,
  decryptUnder?: string,
  options: Partial<MediaFetch> = {},
): Promise<MediaFetchResult> {
  const { mediaKey } = sent.declared;
  if (!mediaKey)
    throw new ProviderViolation(
      `a mediaKey at field ${LAYOUTS[sent.type].fields.mediaKey} of the ${LAYOUTS[sent.type].name}`,
      'the media message declares no mediaKey, so no key to decrypt the blob with',
    );
  const infos = verifyInfos(sent.type);
  const first = decryptUnder === undefined ? infos : [decryptUnder, ...infos.filter((i) => i !== decryptUnder)];
  return fetchSent(ctx, sent, { verify: { mediaKey, infos: first }, ...options });
}

/** Hex of the first bytes of a hash, for messages. */
export const short = (bytes: Uint8Array | undefined): string =>
  bytes ? `${Buffer.from(bytes).toString('hex').slice(0, 16)}…` : 'nothing';
