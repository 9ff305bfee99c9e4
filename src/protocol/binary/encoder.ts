/**
 * Writes a node tree in WhatsApp's binary node encoding. Each string takes the first form that
 * fits, in the lineage's order: dictionary token, nibbles, hex digits, jid, raw UTF-8; so the
 * bytes are Baileys' encodeBinaryNode's (without its leading flags byte) wherever Baileys reads
 * its own bytes back as the string it was given.
 * @see Baileys `lib/WABinary/encode.js` encodeBinaryNodeInner; whatsmeow `binary/encoder.go`.
 */
import { fromBase64 } from '../base64.js';
import { CodecError } from '../codec.js';
import type { StanzaNode } from '../node.js';
import { hasBinaryContent } from '../stanzas.js';
import { jidForm } from './jid-forms.js';
import {
  AD_JID,
  BINARY_8,
  BINARY_20,
  BINARY_32,
  DICTIONARY_0,
  HEX_8,
  INTEROP_JID,
  JID_PAIR,
  LIST_16,
  LIST_8,
  LIST_EMPTY,
  NIBBLE_8,
  PACKED_MAX,
  type TokenDictionary,
} from './tokens.js';

const NIBBLE = /^[0-9.-]*$/;
/** Upper case only: lower-case hex is written raw by both lineages (isHex, validateHex). */
const HEX = /^[0-9A-F]*$/;
/** With the `u` flag a surrogate range matches only a lone surrogate, which UTF-8 cannot carry. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const utf8 = new TextEncoder();

export interface EncoderOptions {
  readonly dictionary: TokenDictionary;
  /** Written into every interop jid; the string form of a jid has no room for it. */
  readonly integrator: number;
}

/**
 * The buffer every writer starts in. Writing is synchronous and a writer's bytes leave as a copy,
 * so one buffer serves them all; a node that outgrows it gets its own. A new zeroed array per node
 * was a fifth of a small node's cost.
 */
const scratch = new Uint8Array(4096);

export class BinaryWriter {
  private buf = scratch;
  private length = 0;

  constructor(private readonly options: EncoderOptions) {}

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  node(n: StanzaNode, parent: string | undefined): void {
    if (n.tag === '') throw new CodecError('bad-request', 'an element without a tag cannot be encoded');
    const attrs = Object.entries(n.attrs);
    const content = n.children.length > 0 || (n.text !== undefined && n.text !== '') ? 1 : 0;
    this.listStart(2 * attrs.length + 1 + content, `<${n.tag}> attributes`);
    this.string(n.tag);
    for (const [key, value] of attrs) {
      this.string(key);
      this.string(value);
    }
    if (n.children.length > 0) {
      this.listStart(n.children.length, `<${n.tag}> children`);
      for (const c of n.children) this.node(c, n.tag);
    } else if (content === 1 && n.text !== undefined) {
      if (hasBinaryContent(n.tag, parent)) this.binary(n.tag, n.text);
      else this.string(n.text);
    }
  }

  /** A binary element's text is canonical base64 in the model and its bytes on this wire. */
  private binary(tag: string, text: string): void {
    const bytes = fromBase64(text);
    if (bytes === null)
      throw new CodecError('bad-request', `<${tag}> carries binary content, and its text is not base64`);
    this.byteLength(bytes.length);
    this.push(bytes);
  }

  /** A jid's user or server, which has no `@` and so never takes a jid form itself. */
  private name(s: string): void {
    if (!this.packedOrToken(s)) this.raw(s);
  }

  private string(s: string): void {
    if (this.packedOrToken(s)) return;
    const jid = jidForm(s);
    if (jid === null) return this.raw(s);
    switch (jid.form) {
      case 'pair':
        this.pushByte(JID_PAIR);
        if (jid.user === '') this.pushByte(LIST_EMPTY);
        else this.name(jid.user);
        return this.name(jid.server);
      case 'ad':
        this.pushBytes(AD_JID, jid.domain, jid.device);
        return this.name(jid.user);
      case 'interop':
        this.pushByte(INTEROP_JID);
        this.name(jid.user);
        this.pushBytes(jid.device >> 8, jid.device & 0xff);
        this.pushBytes(this.options.integrator >> 8, this.options.integrator & 0xff);
        return this.name('interop');
    }
  }

  private packedOrToken(s: string): boolean {
    const token = this.options.dictionary.indexOf.get(s);
    if (token !== undefined) {
      if (token.page !== undefined) this.pushByte(DICTIONARY_0 + token.page);
      this.pushByte(token.index);
      return true;
    }
    if (s.length > PACKED_MAX) return false;
    if (NIBBLE.test(s)) this.packed(s, NIBBLE_8);
    else if (HEX.test(s)) this.packed(s, HEX_8);
    else return false;
    return true;
  }

  /** Two characters a byte, high nibble first; an odd string sets the length's top bit and pads with 15. */
  private packed(s: string, marker: typeof NIBBLE_8 | typeof HEX_8): void {
    const pairs = Math.ceil(s.length / 2);
    this.pushBytes(marker, pairs | (s.length % 2 === 1 ? 0x80 : 0));
    this.reserve(pairs);
    for (let i = 0; i < pairs; i++) this.buf[this.length++] = (digit(s, 2 * i) << 4) | digit(s, 2 * i + 1);
  }

  private raw(s: string): void {
    if (LONE_SURROGATE.test(s)) throw new CodecError('bad-request', 'a string with a lone surrogate has no UTF-8');
    const n = Buffer.byteLength(s, 'utf8');
    this.byteLength(n);
    this.reserve(n);
    utf8.encodeInto(s, this.buf.subarray(this.length, this.length + n));
    this.length += n;
  }

  private byteLength(n: number): void {
    if (n < 256) this.pushBytes(BINARY_8, n);
    else if (n < 1 << 20) this.pushBytes(BINARY_20, (n >> 16) & 0x0f, (n >> 8) & 0xff, n & 0xff);
    else this.pushBytes(BINARY_32, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  }

  private listStart(n: number, what: string): void {
    if (n === 0) this.pushByte(LIST_EMPTY);
    else if (n < 256) this.pushBytes(LIST_8, n);
    else if (n <= 0xffff) this.pushBytes(LIST_16, n >> 8, n & 0xff);
    else throw new CodecError('bad-request', `${what}: a list of ${n} is more than LIST_16 holds`);
  }

  /** Bytes written one by one into the buffer: an array per byte was most of an element's cost. */
  private pushByte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  private pushBytes(...bytes: number[]): void {
    this.reserve(bytes.length);
    for (const b of bytes) this.buf[this.length++] = b;
  }

  private push(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Room for `n` more bytes. */
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }
}

/** The nibble of the character at `i` of a packed string; 15 pads an odd one. */
function digit(s: string, i: number): number {
  if (i >= s.length) return 15;
  const c = s.charCodeAt(i);
  if (c === 0x2d) return 10; // '-'
  if (c === 0x2e) return 11; // '.'
  return c >= 0x41 ? c - 55 : c - 48; // 'A'-'F' (HEX only: NIBBLE has no letters), '0'-'9'
}
