/**
 * The bytes of WhatsApp's binary node encoding that are not a dictionary token: list, string and
 * jid markers. Bytes 1–235 are single-byte tokens; 240–244 and 246 are nothing this codec reads.
 * @see whatsmeow `binary/token/token.go` (the type tokens); Baileys `lib/WABinary/constants.js` TAGS.
 */
export const LIST_EMPTY = 0;
export const DICTIONARY_0 = 236;
export const DICTIONARY_3 = 239;
/** user, device (16 bits), integrator (16 bits), server; whatsmeow's InteropJID, absent from Baileys 6. */
export const INTEROP_JID = 245;
export const AD_JID = 247;
export const LIST_8 = 248;
export const LIST_16 = 249;
export const JID_PAIR = 250;
export const HEX_8 = 251;
export const BINARY_8 = 252;
export const BINARY_20 = 253;
export const BINARY_32 = 254;
export const NIBBLE_8 = 255;
/** Longest string packed into nibbles or hex digits (the length byte keeps its top bit for "odd"). */
export const PACKED_MAX = 127;

/** Where a token string sits: one byte, or a page (DICTIONARY_0 + page) and an index. */
export type TokenIndex =
  { readonly page?: undefined; readonly index: number } | { readonly page: number; readonly index: number };

export interface TokenDictionary {
  /** The version a client announces in its Noise prologue (`WA` 6 version). */
  readonly version: number;
  /** Index 0 is the empty string, which is written as LIST_EMPTY. */
  readonly single: readonly string[];
  /** Four pages, each indexed by one byte. */
  readonly double: readonly (readonly string[])[];
  /** The one place each string is written; a string in no list is absent. */
  readonly indexOf: ReadonlyMap<string, TokenIndex>;
}

/**
 * A dictionary from its whitespace-separated lists. A string in both kinds of list would be written
 * as a single byte by whatsmeow (`IndexOfSingleToken` first) and as a double by Baileys (its
 * TOKEN_MAP is filled singles first, then overwritten by doubles); no version has one, and this
 * refuses it rather than choose.
 */
export function dictionary(version: number, single: string, double: readonly string[]): TokenDictionary {
  const words = (s: string): string[] => s.split(/\s+/).filter((w) => w !== '');
  const singles = ['', ...words(single)];
  const pages = double.map(words);
  const indexOf = new Map<string, TokenIndex>();
  const add = (token: string, at: TokenIndex): void => {
    if (indexOf.has(token)) throw new Error(`dictionary ${version}: token ${JSON.stringify(token)} appears twice`);
    indexOf.set(token, at);
  };
  singles.forEach((token, index) => add(token, { index }));
  pages.forEach((page, p) => page.forEach((token, index) => add(token, { page: p, index })));
  if (singles.length !== DICTIONARY_0 || pages.length !== 4 || pages.some((p) => p.length !== 256)) {
    throw new Error(`dictionary ${version}: expected ${DICTIONARY_0} single tokens and 4 pages of 256`);
  }
  return { version, single: singles, double: pages, indexOf };
}
