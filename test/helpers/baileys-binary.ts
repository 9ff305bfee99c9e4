/**
 * Baileys' own binary node codec (`lib/WABinary`), the oracle of the binary codec's tests, and the
 * translation between its nodes ({ tag, attrs, content }) and the project's StanzaNode: a binary
 * element's bytes are base64 text in the model; Baileys' decoder hands any raw string back as
 * bytes, which is UTF-8 text in the model.
 */
import { createRequire } from 'node:module';
import type { BinaryNode } from 'baileys';
import { node, type StanzaNode } from '../../src/protocol/node.js';
import { hasBinaryContent } from '../../src/protocol/stanzas.js';
import type { TokenDictionary } from '../../src/protocol/binary/tokens.js';

const require = createRequire(import.meta.url);

/** The tables and markers Baileys' encoder and decoder take as their `opts`. */
export interface BaileysTables {
  readonly TAGS: Readonly<Record<string, number>>;
  readonly SINGLE_BYTE_TOKENS: readonly string[];
  readonly DOUBLE_BYTE_TOKENS: readonly (readonly string[])[];
  readonly TOKEN_MAP: Readonly<Record<string, { dict?: number; index: number }>>;
}

export const baileysConstants = require('baileys/lib/WABinary/constants.js') as BaileysTables;
/** The dictionary version Baileys announces in its Noise prologue, and whose tables it ships. */
export const baileysDictVersion = (require('baileys/lib/Defaults/index.js') as { DICT_VERSION: number }).DICT_VERSION;

const encodeModule = require('baileys/lib/WABinary/encode.js') as {
  encodeBinaryNode(n: BinaryNode, opts?: BaileysTables): Buffer;
};
const decodeModule = require('baileys/lib/WABinary/decode.js') as {
  decodeBinaryNode(plaintext: Buffer): Promise<BinaryNode>;
  decodeDecompressedBinaryNode(bytes: Buffer, opts: BaileysTables): BinaryNode;
};

/** Baileys' tables for one of our dictionaries, its TOKEN_MAP filled as `constants.js` fills it. */
export function baileysTables(d: TokenDictionary): BaileysTables {
  const TOKEN_MAP: Record<string, { dict?: number; index: number }> = {};
  d.single.forEach((token, index) => (TOKEN_MAP[token] = { index }));
  d.double.forEach((page, dict) => page.forEach((token, index) => (TOKEN_MAP[token] = { dict, index })));
  return { TAGS: baileysConstants.TAGS, SINGLE_BYTE_TOKENS: d.single, DOUBLE_BYTE_TOKENS: d.double, TOKEN_MAP };
}

/** Baileys' plaintext of a node: its flags byte (0), then the node. */
export const baileysEncode = (n: StanzaNode, tables: BaileysTables): Uint8Array =>
  new Uint8Array(encodeModule.encodeBinaryNode(toBaileys(n, undefined), tables));

/** Baileys' reading of a node's bytes (no flags byte), as a model node. */
export const baileysDecode = (bytes: Uint8Array, tables: BaileysTables): StanzaNode =>
  fromBaileys(decodeModule.decodeDecompressedBinaryNode(Buffer.from(bytes), tables), undefined);

/** Baileys' reading of a whole plaintext, flags byte and zlib included, with its shipped tables. */
export const baileysDecodePlaintext = async (plaintext: Uint8Array): Promise<StanzaNode> =>
  fromBaileys(await decodeModule.decodeBinaryNode(Buffer.from(plaintext)), undefined);

export function toBaileys(n: StanzaNode, parent: string | undefined): BinaryNode {
  const attrs = { ...n.attrs };
  if (n.children.length > 0) return { tag: n.tag, attrs, content: n.children.map((c) => toBaileys(c, n.tag)) };
  if (n.text === undefined) return { tag: n.tag, attrs };
  const content = hasBinaryContent(n.tag, parent) ? Buffer.from(n.text, 'base64') : n.text;
  return { tag: n.tag, attrs, content };
}

export function fromBaileys(b: BinaryNode, parent: string | undefined): StanzaNode {
  const { content } = b;
  if (Array.isArray(content))
    return node(
      b.tag,
      b.attrs,
      content.map((c) => fromBaileys(c, b.tag)),
    );
  if (content === undefined) return node(b.tag, b.attrs);
  if (typeof content === 'string') return node(b.tag, b.attrs, content);
  const bytes = Buffer.from(content);
  return node(b.tag, b.attrs, hasBinaryContent(b.tag, parent) ? bytes.toString('base64') : bytes.toString('utf8'));
}
