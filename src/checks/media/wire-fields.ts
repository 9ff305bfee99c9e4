/**
 * The profile's media message layouts (docs/PROFILE.md §9, MEDIA-FIELDS), read straight from the
 * protobuf wire format with a table of public field numbers: the checks do not read media
 * messages with the generated code that the reference provider also uses.
 */
import type { MediaType } from '../../protocol/media/scheme.js';

export type DeclaredField =
  | 'url'
  | 'mimetype'
  | 'fileSha256'
  | 'fileLength'
  | 'mediaKey'
  | 'fileEncSha256'
  | 'directPath'
  | 'fileName'
  | 'mediaKeyTimestamp'
  | 'ptt';

export interface Layout {
  /** The field of `Message` that carries this type. */
  readonly message: number;
  readonly name: string;
  readonly fields: Readonly<Partial<Record<DeclaredField, number>>>;
  /** @see WhatsApp security whitepaper, "Transmitting Media": HKDF info per type. */
  readonly info: string;
  /** What the type is called in a verdict. */
  readonly label: string;
  /**
   * ENC-MEDIATYPE: the `mediatype` on the `<enc>` of the type as the driver asks for it (its audio is a
   * voice note). @see Baileys 6.17.16 `lib/Socket/messages-send.js`, getMediaType.
   */
  readonly mediatype: string;
}

/** @see the public `WAWebProtobufsE2E.Message` layouts: field numbers differ per type. */
export const LAYOUTS: Readonly<Record<MediaType, Layout>> = {
  image: {
    message: 3,
    name: 'imageMessage',
    fields: {
      url: 1,
      mimetype: 2,
      fileSha256: 4,
      fileLength: 5,
      mediaKey: 8,
      fileEncSha256: 9,
      directPath: 11,
      mediaKeyTimestamp: 12,
    },
    info: 'WhatsApp Image Keys',
    label: 'image',
    mediatype: 'image',
  },
  video: {
    message: 9,
    name: 'videoMessage',
    fields: {
      url: 1,
      mimetype: 2,
      fileSha256: 3,
      fileLength: 4,
      mediaKey: 6,
      fileEncSha256: 11,
      directPath: 13,
      mediaKeyTimestamp: 14,
    },
    info: 'WhatsApp Video Keys',
    label: 'video',
    mediatype: 'video',
  },
  audio: {
    message: 8,
    name: 'audioMessage',
    fields: {
      url: 1,
      mimetype: 2,
      fileSha256: 3,
      fileLength: 4,
      ptt: 6,
      mediaKey: 7,
      fileEncSha256: 8,
      directPath: 9,
      mediaKeyTimestamp: 10,
    },
    info: 'WhatsApp Audio Keys',
    label: 'voice note',
    mediatype: 'ptt',
  },
  document: {
    message: 7,
    name: 'documentMessage',
    fields: {
      url: 1,
      mimetype: 2,
      fileSha256: 4,
      fileLength: 5,
      mediaKey: 7,
      fileName: 8,
      fileEncSha256: 9,
      directPath: 10,
      mediaKeyTimestamp: 11,
    },
    info: 'WhatsApp Document Keys',
    label: 'document',
    mediatype: 'document',
  },
};

/** The type as a verdict names one file of it: "an image", "a voice note". */
export const oneOf = (type: MediaType): string => {
  const { label } = LAYOUTS[type];
  return `${/^[aeiou]/.test(label) ? 'an' : 'a'} ${label}`;
};

export type WireValue =
  | { readonly wire: 0; readonly value: number }
  | { readonly wire: 2; readonly value: Uint8Array }
  | { readonly wire: 1 | 5; readonly value: Uint8Array };

/** Every field of one protobuf message, by number, in order; throws on bytes that are not a protobuf. */
export function readWire(bytes: Uint8Array): Map<number, WireValue[]> {
  const out = new Map<number, WireValue[]>();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= bytes.length || shift > 63) throw new Error('a varint runs past the end');
      const b = bytes[i++] as number;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  const take = (n: number): Uint8Array => {
    if (i + n > bytes.length) throw new Error('a field runs past the end');
    const v = bytes.subarray(i, i + n);
    i += n;
    return v;
  };
  while (i < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new Error('field number 0');
    let value: WireValue;
    if (wire === 0) value = { wire, value: varint() };
    else if (wire === 2) value = { wire, value: take(varint()) };
    else if (wire === 1) value = { wire, value: take(8) };
    else if (wire === 5) value = { wire, value: take(4) };
    else throw new Error(`wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

/** What a media message declares, read at the profile's field numbers for its type. */
export interface Declared {
  readonly type: MediaType;
  /** Every field number present in the media message, for a verdict's message. */
  readonly present: readonly number[];
  readonly url?: string;
  readonly mimetype?: string;
  readonly directPath?: string;
  readonly fileName?: string;
  readonly fileLength?: number;
  /** MEDIA-KEY-TIME: the sender's clock when it drew the key, if it says. */
  readonly mediaKeyTimestamp?: number;
  /** MEDIA-FIELDS: an audio message's mark of a voice note. */
  readonly ptt?: boolean;
  readonly mediaKey?: Uint8Array;
  readonly fileSha256?: Uint8Array;
  readonly fileEncSha256?: Uint8Array;
}

/** The media message of `type` inside a `Message`'s bytes, or why there is none. */
export function readDeclared(message: Uint8Array, type: MediaType): Declared | string {
  const layout = LAYOUTS[type];
  let top: Map<number, WireValue[]>;
  let inner: Map<number, WireValue[]>;
  try {
    top = readWire(message);
    const carried = top.get(layout.message)?.[0];
    if (carried?.wire !== 2)
      return `no ${layout.name} (field ${layout.message}) in the Message; fields ${[...top.keys()].join(', ') || 'none'}`;
    inner = readWire(carried.value);
  } catch (e) {
    return `bytes that are not a protobuf: ${(e as Error).message}`;
  }
  const text = (f: DeclaredField): string | undefined => {
    const n = layout.fields[f];
    const v = n === undefined ? undefined : inner.get(n)?.[0];
    return v?.wire === 2 ? Buffer.from(v.value).toString('utf8') : undefined;
  };
  const bytes = (f: DeclaredField): Uint8Array | undefined => {
    const n = layout.fields[f];
    const v = n === undefined ? undefined : inner.get(n)?.[0];
    return v?.wire === 2 ? v.value : undefined;
  };
  const varint = (f: DeclaredField): number | undefined => {
    const n = layout.fields[f];
    const v = n === undefined ? undefined : inner.get(n)?.[0];
    return v?.wire === 0 ? v.value : undefined;
  };
  const out: Record<string, unknown> = { type, present: [...inner.keys()] };
  for (const f of ['url', 'mimetype', 'directPath', 'fileName'] as const) if (text(f) !== undefined) out[f] = text(f);
  for (const f of ['mediaKey', 'fileSha256', 'fileEncSha256'] as const) if (bytes(f) !== undefined) out[f] = bytes(f);
  for (const f of ['fileLength', 'mediaKeyTimestamp'] as const) if (varint(f) !== undefined) out[f] = varint(f);
  if (varint('ptt') !== undefined) out['ptt'] = varint('ptt') !== 0;
  return out as unknown as Declared;
}
