/**
 * The type of a decrypted file from its first bytes (MEDIA-TYPE-MATCH), after the WHATWG MIME
 * Sniffing standard's signatures for the types the cases send.
 */
const SIGNATURES: readonly { readonly mime: string; readonly at: number; readonly bytes: readonly number[] }[] = [
  { mime: 'image/jpeg', at: 0, bytes: [0xff, 0xd8, 0xff] },
  { mime: 'image/png', at: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { mime: 'video/mp4', at: 4, bytes: [0x66, 0x74, 0x79, 0x70] }, // "ftyp"
  { mime: 'audio/ogg', at: 0, bytes: [0x4f, 0x67, 0x67, 0x53] }, // "OggS"
  { mime: 'audio/mpeg', at: 0, bytes: [0x49, 0x44, 0x33] }, // "ID3", an MP3's tag
  { mime: 'application/pdf', at: 0, bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // "%PDF-"
];

/**
 * The standard's WebM signature: an EBML header (1A 45 DF A3) whose DocType element (42 82), within
 * its first 38 bytes, is "webm" (a DocType of one size byte, as every WebM muxer writes it).
 */
function isWebm(head: Uint8Array): boolean {
  if (![0x1a, 0x45, 0xdf, 0xa3].every((b, i) => head[i] === b)) return false;
  const webm = [0x77, 0x65, 0x62, 0x6d];
  for (let i = 4; i + 7 <= Math.min(head.length, 38); i++)
    if (head[i] === 0x42 && head[i + 1] === 0x82 && webm.every((b, j) => head[i + 3 + j] === b)) return true;
  return false;
}

/** The MIME type the bytes announce, or undefined when none of the signatures matches. */
export function sniff(head: Uint8Array): string | undefined {
  if (isWebm(head)) return 'video/webm';
  return SIGNATURES.find((s) => s.bytes.every((b, i) => head[s.at + i] === b))?.mime;
}

/** The essence of a MIME type: lowercase type/subtype without parameters. */
export const essence = (mime: string): string => (mime.split(';')[0] ?? '').trim().toLowerCase();

/** A file's MIME type, and the first bytes of a file of that type. */
export interface Sample {
  readonly mimetype: string;
  readonly head: readonly number[];
}

/** A small file of each type, with the signature its MIME type sniffs to. */
export const SAMPLES = {
  image: { mimetype: 'image/jpeg', head: [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00] },
  video: { mimetype: 'video/mp4', head: [0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70, 0x6d, 0x70, 0x34, 0x32] },
  audio: { mimetype: 'audio/ogg; codecs=opus', head: [0x4f, 0x67, 0x67, 0x53, 0x00, 0x02] },
  document: { mimetype: 'application/pdf', head: [...Buffer.from('%PDF-1.7\n')] },
} as const;

/**
 * An audio file that is no recorded voice note: an MP3 a user shares as audio, which a client
 * must not name after the voice note's Opus (MEDIA-TYPE-MATCH).
 */
export const MP3_SAMPLE: Sample = { mimetype: 'audio/mpeg', head: [0x49, 0x44, 0x33, 0x04, 0x00, 0x00] };

/**
 * An image sent as a file: a PNG a user shares as a document, which a receiver must key and show as
 * the document its message is, whatever its mimetype says (MEDIA-KEYS, MEDIA-RECEIVE).
 */
export const PNG_SAMPLE: Sample = {
  mimetype: 'image/png',
  head: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52],
};

/**
 * A video that is no MP4: a WebM a user shares as video, which a client must not name after the MP4
 * its player expects (MEDIA-TYPE-MATCH). Its head is a WebM's EBML header, DocType "webm".
 */
export const WEBM_SAMPLE: Sample = {
  mimetype: 'video/webm',
  head: [
    0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3,
    0x81, 0x08, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d, 0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02,
  ],
};
