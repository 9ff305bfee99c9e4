/**
 * Media messages in the `Message` protobuf (proto/message.proto): one field per media type, each
 * with its own public layout. Built here by both sides; the checks read them with their own
 * table of field numbers (src/checks/media/wire-fields.ts), not with this code.
 */
import { interop } from '../../gen/message.js';
import type { MediaType } from './scheme.js';

/** The field of `Message` that carries each media type. */
export const MEDIA_MESSAGE_FIELD: Readonly<Record<MediaType, number>> = { image: 3, document: 7, audio: 8, video: 9 };

export interface MediaFields {
  readonly url?: string;
  readonly directPath: string;
  readonly mimetype: string;
  readonly mediaKey?: Uint8Array;
  readonly fileSha256?: Uint8Array;
  readonly fileEncSha256?: Uint8Array;
  readonly fileLength: number;
  readonly mediaKeyTimestamp?: number;
  readonly fileName?: string;
  /** Audio: a voice note (push to talk). */
  readonly ptt?: boolean;
}

interface Layout {
  encode(m: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  create(p: object): object;
}

const LAYOUT: Readonly<Record<MediaType, Layout>> = {
  image: interop.ImageMessage,
  video: interop.VideoMessage,
  audio: interop.AudioMessage,
  document: interop.DocumentMessage,
};

/** A protobuf length-delimited field: tag, varint length, bytes. */
export function lengthDelimited(field: number, bytes: Uint8Array): Uint8Array {
  const length: number[] = [];
  for (let n = bytes.length; ; n = Math.floor(n / 128)) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  const tag = (field << 3) | 2;
  const head = tag < 0x80 ? [tag] : [(tag & 0x7f) | 0x80, tag >> 7];
  return Uint8Array.from([...head, ...length, ...bytes]);
}

/**
 * A `Message` holding one media message of `type`, written with the field numbers of `layout`
 * (the type's own unless a deliberate defect says otherwise).
 */
export function encodeMediaMessage(type: MediaType, fields: MediaFields, layout: MediaType = type): Uint8Array {
  const codec = LAYOUT[layout];
  const inner = codec.encode(codec.create({ ...fields })).finish();
  return lengthDelimited(MEDIA_MESSAGE_FIELD[type], inner);
}

export interface ReadMedia {
  readonly type: MediaType;
  readonly fields: MediaFields;
}

const FIELD_OF: Readonly<Record<MediaType, 'imageMessage' | 'videoMessage' | 'audioMessage' | 'documentMessage'>> = {
  image: 'imageMessage',
  video: 'videoMessage',
  audio: 'audioMessage',
  document: 'documentMessage',
};

/** The media message in `message`, read with its type's layout (or `layout`), or undefined when there is none. */
export function readMediaMessage(message: interop.Message, layout?: MediaType): ReadMedia | undefined {
  for (const type of Object.keys(FIELD_OF) as MediaType[]) {
    const value = message[FIELD_OF[type]];
    if (!value) continue;
    const read =
      layout === undefined || layout === type ? value : LAYOUT[layout].decode(LAYOUT[type].encode(value).finish());
    const m = read as Partial<Record<keyof MediaFields, unknown>>;
    const bytes = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array && v.length > 0 ? v : undefined);
    const fields: MediaFields = {
      directPath: typeof m.directPath === 'string' ? m.directPath : '',
      url: typeof m.url === 'string' ? m.url : '',
      mimetype: typeof m.mimetype === 'string' ? m.mimetype : '',
      fileLength: Number(m.fileLength ?? 0),
      ...(bytes(m.mediaKey) ? { mediaKey: bytes(m.mediaKey) as Uint8Array } : {}),
      ...(bytes(m.fileSha256) ? { fileSha256: bytes(m.fileSha256) as Uint8Array } : {}),
      ...(bytes(m.fileEncSha256) ? { fileEncSha256: bytes(m.fileEncSha256) as Uint8Array } : {}),
    };
    return { type, fields };
  }
  return undefined;
}
