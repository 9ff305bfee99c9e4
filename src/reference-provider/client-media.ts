/**
 * Media in the provider's client (docs/PROFILE.md §9). Sending: the file is encrypted with a fresh
 * media key, uploaded to the provider's own store, and described in a media message whose download
 * path names the storage reference. Receiving: the blob is downloaded from the gatekeeper's media
 * URL, verified and decrypted as a stream, and shown only once every check passed. The faults of
 * the message and of the receiving client live here.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'undici';
import type { interop } from '../gen/message.js';
import { fromBase64, toBase64 } from '../protocol/base64.js';
import type { ReceivedMedia, SendMediaRequest } from '../protocol/driver-api.js';
import { contentStream, encryptToBuffer, type EncryptedMedia } from '../protocol/media/content.js';
import { ENC_MEDIATYPE, mediaKind } from '../protocol/media/enc-mediatype.js';
import { encodeMediaMessage, readMediaMessage, type MediaFields } from '../protocol/media/message.js';
import { MEDIA_INFO, newMediaKey, type MediaType } from '../protocol/media/scheme.js';
import { MediaDecryptStream } from '../protocol/media/stream.js';
import type { FaultName, FaultSet } from './faults.js';
import type { MediaStore } from './media-store.js';

/** The largest plaintext per type that this provider's users can send (MEDIA-LIMITS). */
export const MEDIA_LIMITS: Readonly<Record<MediaType, number>> = {
  image: 16 * 1024 * 1024,
  video: 64 * 1024 * 1024,
  audio: 16 * 1024 * 1024,
  document: 100 * 1024 * 1024,
};
const DOWNLOAD_TIMEOUT_MS = 10_000;

/**
 * MEDIA-KEYS, one fault per type: the info string a sent file of that type is keyed with under its
 * fault, another type's or one no type uses, while every other type keeps its own.
 */
const SEND_WRONG_INFO: Readonly<Record<MediaType, { fault: FaultName; info: string }>> = {
  image: { fault: 'image-wrong-hkdf-info', info: 'WhatsApp Images Keys' },
  video: { fault: 'video-wrong-hkdf-info', info: MEDIA_INFO.image },
  audio: { fault: 'audio-wrong-hkdf-info', info: MEDIA_INFO.video },
  document: { fault: 'document-wrong-hkdf-info', info: MEDIA_INFO.image },
};

/** MEDIA-RECEIVE, one fault per type: the client derives a received file's keys with another type's info string. */
const RECEIVE_WRONG_INFO: Readonly<Record<MediaType, { fault: FaultName; info: string }>> = {
  image: { fault: 'receive-image-wrong-hkdf-info', info: MEDIA_INFO.document },
  video: { fault: 'receive-video-wrong-hkdf-info', info: MEDIA_INFO.image },
  audio: { fault: 'receive-audio-wrong-hkdf-info', info: MEDIA_INFO.video },
  document: { fault: 'receive-document-wrong-hkdf-info', info: MEDIA_INFO.image },
};

export interface MediaDeps {
  readonly faults: FaultSet;
  readonly store: MediaStore;
  readonly providerId: string;
  /** The media base of the discovery document. */
  mediaBase(): string;
}

/** The download path of a stored blob (MEDIA-PATH), after the public overview's shape. */
export const downloadPath = (providerId: string, reference: string): string =>
  `/interop/whatsapp/download/${providerId}/${reference}/`;

export class MediaSender {
  /** The one key the fault `media-reuse-key` sends every file under. */
  private readonly reusedKey = newMediaKey();
  /** The keys the fault `media-key-per-content` sends each file content under. */
  private readonly keyByContent = new Map<string, Buffer>();

  constructor(private readonly deps: MediaDeps) {}

  /**
   * The unpadded `Message` bytes for a file and the `mediatype` its `<enc>` carries (ENC-MEDIATYPE,
   * none when a fault leaves it out), or why the client will not send it.
   */
  async compose(
    req: SendMediaRequest,
  ): Promise<{ message: Uint8Array; mediatype: string | undefined } | { refused: string }> {
    const { faults, store } = this.deps;
    const prefix = fromBase64(req.content) ?? new Uint8Array();
    const size = Math.max(req.size ?? 0, prefix.length);
    // MEDIA-LIMIT-ENFORCED: the limit is the largest file sent; one fault sends any size, the other refuses the limit itself.
    const limit = MEDIA_LIMITS[faults.has('media-limit-of-image') ? 'image' : req.type];
    const over = faults.has('media-limit-exclusive') ? size >= limit : size > limit;
    const kept = !faults.has('media-no-size-limit') && (req.type === 'image' || !faults.has('media-limit-image-only'));
    if (over && kept) return { refused: `${size} bytes is over the ${req.type} limit of ${limit} bytes` };
    const mediaKey = this.mediaKeyFor(req, size);
    const info = faults.has(SEND_WRONG_INFO[req.type].fault) ? SEND_WRONG_INFO[req.type].info : MEDIA_INFO[req.type];
    const encrypted = await encryptToBuffer(contentStream(prefix, size), {
      type: req.type,
      mediaKey,
      info,
      macWithoutIv: faults.has('media-mac-without-iv'),
    });
    const mimetype = faults.has('media-generic-mimetype') ? 'application/octet-stream' : this.mimetype(req);
    // MEDIA-REFERENCE: the fault names the blob by its file's SHA-256, as a deduplicating upload would.
    const name = faults.has('media-reference-file-hash')
      ? Buffer.from(encrypted.fileSha256).toString('base64url')
      : undefined;
    const reference = store.put(encrypted.blob, mimetype, name);
    const fields: MediaFields = {
      url: `${this.deps.mediaBase()}/${reference}`,
      directPath: faults.has('media-bare-path') ? `/media/${reference}` : downloadPath(this.deps.providerId, reference),
      mimetype,
      mediaKey,
      fileSha256: await this.plainHash(encrypted, prefix, size),
      ...(faults.has('media-no-enc-hash') ? {} : { fileEncSha256: this.encHash(req.type, encrypted.blob) }),
      fileLength: faults.has('media-length-of-blob') ? encrypted.blob.length : encrypted.fileLength,
      // MEDIA-LENGTH-MATCH: the fault counts the content it was handed, not the filler up to `size`.
      ...(faults.has('media-file-length-of-prefix') ? { fileLength: prefix.length } : {}),
      mediaKeyTimestamp: Math.floor(Date.now() / 1000),
      ...(faults.has('media-key-time-ms') ? { mediaKeyTimestamp: Date.now() } : {}),
      ...(req.type === 'document' && !faults.has('document-no-file-name')
        ? { fileName: req.fileName ?? 'document' }
        : {}),
      // The driver's audio is a voice note; the fault sends it as a music file.
      ...(req.type === 'audio' && !faults.has('voice-note-no-ptt') ? { ptt: true } : {}),
    };
    // MEDIA-FIELDS: the fault takes only an Opus file for a voice note, so an MP3 one goes out as a music file.
    const sent = faults.has('ptt-only-for-opus') && !/opus/i.test(req.mimetype) ? withoutPtt(fields) : fields;
    return {
      message: encodeMediaMessage(req.type, sent, this.layout(req.type)),
      mediatype: this.mediatype(req.type, sent),
    };
  }

  /**
   * MEDIA-KEY-FRESH: a new key for every file, the same file sent again included. One fault keeps
   * one key for all; the other keeps one per file content, as an upload cache would.
   */
  private mediaKeyFor(req: SendMediaRequest, size: number): Buffer {
    const { faults } = this.deps;
    if (faults.has('media-reuse-key')) return this.reusedKey;
    if (!faults.has('media-key-per-content')) return newMediaKey();
    const content = `${req.type}:${req.content}:${size}`;
    const key = this.keyByContent.get(content) ?? newMediaKey();
    this.keyByContent.set(content, key);
    return key;
  }

  /** ENC-MEDIATYPE: the kind of the message as composed; the faults leave it out, or call a voice note plain audio. */
  private mediatype(type: MediaType, fields: MediaFields): string | undefined {
    const { faults } = this.deps;
    if (faults.has('no-mediatype')) return undefined;
    const kind = mediaKind(type, fields);
    return ENC_MEDIATYPE[kind === 'voice-note' && faults.has('wrong-mediatype') ? 'audio' : kind];
  }

  /** MEDIA-ENC-HASH: the blob whole; the faults leave the MAC out, of every blob or of a video's only. */
  private encHash(type: MediaType, blob: Buffer): Buffer {
    const { faults } = this.deps;
    const withoutMac =
      faults.has('media-wrong-enc-hash') || (type === 'video' && faults.has('video-enc-hash-without-mac'));
    return createHash('sha256')
      .update(withoutMac ? blob.subarray(0, blob.length - 10) : blob)
      .digest();
  }

  /**
   * MEDIA-PLAIN-HASH: the file as the user gave it; the faults hash it padded, or hash the blob,
   * as a client that takes the upload's hash for the file's would.
   */
  private async plainHash(encrypted: EncryptedMedia, prefix: Uint8Array, size: number): Promise<Buffer> {
    const { faults } = this.deps;
    if (faults.has('media-plain-hash-padded')) return paddedPlainHash(await plaintextOf(prefix, size));
    if (faults.has('media-plain-hash-of-blob')) return createHash('sha256').update(encrypted.blob).digest();
    return encrypted.fileSha256;
  }

  /**
   * MEDIA-TYPE-MATCH: the type the user's file is; one fault names a JPEG after its extension, one
   * names every audio file a recorded voice note's type, and one names every video an MP4.
   */
  private mimetype(req: SendMediaRequest): string {
    const { faults } = this.deps;
    if (req.type === 'audio' && faults.has('audio-mimetype-opus')) return 'audio/ogg; codecs=opus';
    if (req.type === 'video' && faults.has('video-mimetype-always-mp4')) return 'video/mp4';
    const jpg = req.type === 'image' && faults.has('image-mimetype-jpg');
    return jpg ? req.mimetype.replace(/^image\/jpeg/i, 'image/jpg') : req.mimetype;
  }

  private layout(type: MediaType): MediaType {
    const { faults } = this.deps;
    if (type === 'image' && faults.has('image-video-layout')) return 'video';
    if ((type === 'video' || type === 'audio') && faults.has('media-shared-layout')) return 'image';
    return type;
  }
}

/** The fields of a music file: `ptt` left out. */
const withoutPtt = (fields: MediaFields): MediaFields =>
  Object.fromEntries(Object.entries(fields).filter(([name]) => name !== 'ptt')) as unknown as MediaFields;

async function plaintextOf(prefix: Uint8Array, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of contentStream(prefix, size)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function paddedPlainHash(plain: Buffer): Buffer {
  const n = 16 - (plain.length % 16);
  return createHash('sha256')
    .update(Buffer.concat([plain, Buffer.alloc(n, n)]))
    .digest();
}

/** The media type a mimetype's top-level type names, a document for any other (the fault `received-media-type-from-mimetype`). */
function typeOfMimetype(mimetype: string): MediaType {
  const top = mimetype.split('/')[0]?.trim().toLowerCase();
  return top === 'image' || top === 'video' || top === 'audio' ? top : 'document';
}

/** Downloads, verifies and decrypts received media; throws, showing nothing, when any check fails. */
export class MediaReceiver {
  private agent: Agent | undefined;

  constructor(private readonly faults: FaultSet) {}

  /** Trust the gatekeeper's certificate for its media URLs, as for its chat server (never globally). */
  useGatekeeper(caCertPem: string): void {
    this.close();
    this.agent = new Agent({
      connect: { ca: caCertPem },
      headersTimeout: DOWNLOAD_TIMEOUT_MS,
      bodyTimeout: DOWNLOAD_TIMEOUT_MS,
    });
  }

  isMedia(message: interop.Message): boolean {
    return readMediaMessage(message) !== undefined;
  }

  async receive(message: interop.Message): Promise<ReceivedMedia> {
    const { faults } = this;
    const read = readMediaMessage(message, faults.has('receive-shared-layout') ? 'image' : undefined);
    if (!read) throw new Error('no media message');
    const { type, fields } = read;
    const { mediaKey, fileSha256, fileEncSha256, url } = fields;
    if (!mediaKey || !fileSha256 || !fileEncSha256 || !url)
      throw new Error('the media message lacks its key, hashes or URL');
    if (!url.startsWith('https://')) throw new Error(`refusing a media URL that is not https: ${url}`);
    if (!this.agent) throw new Error('no gatekeeper to download from');
    const res = await request(url, { dispatcher: this.agent, signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`the media download answered HTTP ${res.statusCode}`);
    }
    const skip = new Set<'enc-hash' | 'mac' | 'plain-hash' | 'length'>();
    // The video fault streams a video to its player as it decrypts, so the MAC at the end comes too late to matter.
    if (faults.has('receive-skip-mac') || (type === 'video' && faults.has('receive-video-skip-mac'))) skip.add('mac');
    if (faults.has('receive-skip-enc-hash')) skip.add('enc-hash');
    if (faults.has('receive-skip-plain-hash')) skip.add('plain-hash');
    // The document fault streams a document to storage as it decrypts, never hashing what it wrote.
    if (type === 'document' && faults.has('document-plain-hash-unchecked')) skip.add('plain-hash');
    // MEDIA-RECEIVE: the fault leaves fileLength unchecked, as the lineage does, but then shows the declared one.
    if (faults.has('received-length-as-declared')) skip.add('length');
    const decrypt = new MediaDecryptStream({
      type,
      descriptor: { mediaKey, fileSha256, fileEncSha256, fileLength: fields.fileLength },
      ...(faults.has(RECEIVE_WRONG_INFO[type].fault) ? { info: RECEIVE_WRONG_INFO[type].info } : {}),
      // MEDIA-KEYS: the fault keys the file by its mimetype's top-level type, a PNG sent as a document as an image.
      ...(faults.has('received-media-type-from-mimetype') ? { info: MEDIA_INFO[typeOfMimetype(fields.mimetype)] } : {}),
      skip,
      macOptional: faults.has('receive-optional-mac'),
    });
    const hash = createHash('sha256');
    let length = 0;
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        hash.update(chunk);
        length += chunk.length;
        done();
      },
    });
    await pipeline(res.body, decrypt, sink);
    // MEDIA-RECEIVE: the fault shows the length the message declares, when it declares one, not the one it decrypted.
    if (faults.has('received-length-as-declared') && fields.fileLength > 0) length = fields.fileLength;
    // MEDIA-RECEIVE: the fault keeps only the mimetype's essence, as a media index that drops parameters would.
    const mimetype = faults.has('received-media-mimetype-params-dropped')
      ? (fields.mimetype.split(';')[0]?.trim() ?? '')
      : fields.mimetype;
    return { type, mimetype, fileLength: length, sha256: toBase64(hash.digest()) };
  }

  /** Lets downloads in flight finish, then drops the connections to the gatekeeper. */
  close(): void {
    void this.agent?.close();
    this.agent = undefined;
  }
}
