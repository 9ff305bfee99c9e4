/**
 * Reads one node from WhatsApp's binary node encoding, refusing what the lineage's decoders would
 * fail on (and what they would silently misread) with a CodecError, within the codec's limits.
 * Every length is held against the bytes left before anything is read or allocated, so no input
 * costs more than its own size; nesting is bounded by maxDepth before each descent.
 * @see Baileys `lib/WABinary/decode.js` decodeDecompressedBinaryNode; whatsmeow `binary/decoder.go`.
 */
import { toBase64 } from '../base64.js';
import { beyond, CodecError, type CodecLimits } from '../codec.js';
import type { StanzaNode } from '../node.js';
import { hasBinaryContent } from '../stanzas.js';
import { adJid, interopJid, pairJid } from './jid-forms.js';
import {
  AD_JID,
  BINARY_8,
  BINARY_20,
  BINARY_32,
  DICTIONARY_0,
  DICTIONARY_3,
  HEX_8,
  INTEROP_JID,
  JID_PAIR,
  LIST_16,
  LIST_8,
  LIST_EMPTY,
  NIBBLE_8,
  type TokenDictionary,
} from './tokens.js';

export interface DecoderOptions {
  readonly dictionary: TokenDictionary;
  /** The integrator every interop jid must name: the model's jid string cannot carry another. */
  readonly integrator: number;
  readonly limits: CodecLimits;
}

/** A node is at least a list marker, its size and a one-byte tag. */
const SMALLEST_NODE = 3;
/** ignoreBOM: a leading U+FEFF is text like any other; fatal: invalid UTF-8 is refused, not replaced. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NIBBLE_CHARS = '0123456789-.';
const HEX_CHARS = '0123456789ABCDEF';

const malformed = (detail: string): CodecError => new CodecError('not-well-formed', detail);

/** What a string position held: text, or bytes that a binary element keeps as they are. */
type Content = { readonly text: string } | { readonly bytes: Uint8Array };

export class BinaryReader {
  private at = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly options: DecoderOptions,
  ) {}

  /** The one node of the input, with nothing after it (whatsmeow's Unmarshal refuses leftovers too). */
  document(): StanzaNode {
    const n = this.node(undefined, 1);
    const left = this.data.length - this.at;
    if (left > 0) throw malformed(`${left} bytes after the element`);
    return n;
  }

  private node(parent: string | undefined, depth: number): StanzaNode {
    const { maxDepth, maxAttributes = Infinity } = this.options.limits;
    if (depth > maxDepth) throw beyond(this.options.limits, 'maxDepth', `element nesting deeper than ${maxDepth}`);
    const size = this.listSize(this.byte(), 'an element');
    if (size === 0) throw malformed(`an element at byte ${this.at - 1} has no tag`);
    // A tag or an attribute name takes any string form, a jid's too, as Baileys writes and reads
    // them; no XML name has the `@` that gives one (whatsmeow refuses a jid there: ErrNonStringKey).
    const tag = this.text(this.byte(), 'a tag');
    if (tag === '') throw malformed(`an element at byte ${this.at - 1} has an empty tag`);
    const count = (size - 1) >> 1;
    if (count > maxAttributes) {
      throw beyond(
        this.options.limits,
        'maxAttributes',
        `an element with ${count} attributes exceeds ${maxAttributes}`,
      );
    }
    if (count * 2 > this.data.length - this.at) {
      throw malformed(
        `<${tag}> claims ${count} attributes, more than the ${this.data.length - this.at} bytes left hold`,
      );
    }
    const attrs: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const key = this.text(this.byte(), `an attribute name of <${tag}>`);
      // The one name a plain object cannot hold as data; the XML codec refuses it too.
      if (key === '__proto__') throw new CodecError('policy-violation', `the name "__proto__" is not accepted`);
      if (Object.hasOwn(attrs, key)) throw malformed(`<${tag}> has the attribute ${JSON.stringify(key)} twice`);
      attrs[key] = this.text(this.byte(), `the attribute ${key} of <${tag}>`);
    }
    if (size % 2 === 1) return { tag, attrs, children: [] };
    const marker = this.byte();
    if (marker === LIST_EMPTY || marker === LIST_8 || marker === LIST_16) {
      const n = this.listSize(marker, `the children of <${tag}>`);
      if (n * SMALLEST_NODE > this.data.length - this.at) {
        throw malformed(`<${tag}> claims ${n} children, more than the ${this.data.length - this.at} bytes left hold`);
      }
      const children: StanzaNode[] = [];
      for (let i = 0; i < n; i++) children.push(this.node(tag, depth + 1));
      return { tag, attrs, children };
    }
    const text = this.elementText(marker, tag, parent);
    return text === '' ? { tag, attrs, children: [] } : { tag, attrs, children: [], text };
  }

  /** A binary element's bytes become canonical base64; any other element's content is text. */
  private elementText(marker: number, tag: string, parent: string | undefined): string {
    const { maxTextLength = Infinity } = this.options.limits;
    const binary = hasBinaryContent(tag, parent);
    const content = this.content(marker, `the content of <${tag}>`, binary);
    let text: string;
    if ('bytes' in content) {
      const length = 4 * Math.ceil(content.bytes.length / 3);
      if (length > maxTextLength) {
        throw beyond(this.options.limits, 'maxTextLength', `text of ${length} characters exceeds ${maxTextLength}`);
      }
      text = toBase64(content.bytes);
    } else {
      if (binary) throw new CodecError('bad-request', `<${tag}> carries binary content, and it holds a string`);
      text = content.text;
    }
    if (text.length > maxTextLength) {
      throw beyond(this.options.limits, 'maxTextLength', `text of ${text.length} characters exceeds ${maxTextLength}`);
    }
    return text;
  }

  /** A jid's user or server: a token, packed digits or raw UTF-8, never a jid in a jid. */
  private name(what: string): string {
    const marker = this.byte();
    if (marker === JID_PAIR || marker === AD_JID || marker === INTEROP_JID) {
      throw malformed(`${what} is a jid (marker ${marker} at byte ${this.at - 1})`);
    }
    return this.text(marker, what);
  }

  private text(marker: number, what: string): string {
    const content = this.content(marker, what, false);
    return 'text' in content ? content.text : '';
  }

  private content(marker: number, what: string, keepBytes: boolean): Content {
    switch (marker) {
      case LIST_EMPTY:
        return { text: '' };
      case BINARY_8:
      case BINARY_20:
      case BINARY_32: {
        const bytes = this.take(this.byteLength(marker), what);
        return keepBytes ? { bytes } : { text: this.utf8(bytes, what) };
      }
      case NIBBLE_8:
      case HEX_8:
        return { text: this.packed(marker, what) };
      case JID_PAIR: {
        const user = this.name(`the user of a jid in ${what}`);
        const server = this.name(`the server of a jid in ${what}`);
        if (server === '') throw malformed(`a jid in ${what} has no server`);
        return { text: pairJid(user, server) };
      }
      case AD_JID: {
        const [domain = 0, device = 0] = this.take(2, what);
        // An empty user is Baileys' (`:5@s.whatsapp.net` round-trips there); whatsmeow would fail on it.
        return { text: adJid(domain, device, this.name(`the user of a jid in ${what}`)) };
      }
      case INTEROP_JID:
        return { text: this.interop(what) };
      case LIST_8:
      case LIST_16:
        throw malformed(`${what}: a list (marker ${marker}) at byte ${this.at - 1}, where a string belongs`);
    }
    if (marker >= DICTIONARY_0 && marker <= DICTIONARY_3) {
      const index = this.byte();
      const token = this.options.dictionary.double[marker - DICTIONARY_0]?.[index];
      if (token === undefined) throw malformed(`${what}: no token ${index} on page ${marker - DICTIONARY_0}`);
      return { text: token };
    }
    const token = marker >= 1 ? this.options.dictionary.single[marker] : undefined;
    if (token === undefined) throw malformed(`${what}: unknown token ${marker} at byte ${this.at - 1}`);
    return { text: token };
  }

  /** whatsmeow's readInteropJID: user, device and integrator (16 bits each), then `interop`. */
  private interop(what: string): string {
    const user = this.nonEmpty(this.name(`the user of an interop jid in ${what}`), what);
    const [d0 = 0, d1 = 0, i0 = 0, i1 = 0] = this.take(4, what);
    const integrator = (i0 << 8) | i1;
    const server = this.name(`the server of an interop jid in ${what}`);
    if (server !== 'interop') throw malformed(`an interop jid in ${what} names the server ${JSON.stringify(server)}`);
    if (integrator !== this.options.integrator) {
      throw new CodecError(
        'bad-request',
        `an interop jid in ${what} names integrator ${integrator}, where this connection's is ${this.options.integrator}`,
      );
    }
    return interopJid(user, (d0 << 8) | d1);
  }

  /**
   * Nibbles (digits, `-`, `.`) or upper-case hex digits, two a byte. Only 15 pads, and only the
   * last half of an odd string: the lineage's decoders would read a 15 elsewhere as a NUL.
   */
  private packed(marker: number, what: string): string {
    const head = this.byte();
    const odd = (head & 0x80) !== 0;
    const bytes = this.take(head & 0x7f, what);
    if (odd && bytes.length === 0) throw malformed(`${what}: an odd packed string of no bytes`);
    const chars = marker === NIBBLE_8 ? NIBBLE_CHARS : HEX_CHARS;
    let s = '';
    for (const [i, b] of bytes.entries()) {
      const low = b & 0x0f;
      const last = odd && i === bytes.length - 1;
      const hi = chars[b >> 4];
      const lo = last ? (low === 15 ? '' : undefined) : chars[low];
      if (hi === undefined || lo === undefined)
        throw malformed(`${what}: byte 0x${b.toString(16)} is not packed digits`);
      s += hi + lo;
    }
    return s;
  }

  private nonEmpty(user: string, what: string): string {
    if (user === '') throw malformed(`a jid in ${what} has an empty user`);
    return user;
  }

  private utf8(bytes: Uint8Array, what: string): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw malformed(`${what} is not UTF-8`);
    }
  }

  private listSize(marker: number, what: string): number {
    if (marker === LIST_EMPTY) return 0;
    if (marker === LIST_8) return this.byte();
    if (marker === LIST_16) {
      const [hi = 0, lo = 0] = this.take(2, what);
      return (hi << 8) | lo;
    }
    throw malformed(`${what}: marker ${marker} at byte ${this.at - 1} is not a list`);
  }

  private byteLength(marker: number): number {
    if (marker === BINARY_8) return this.byte();
    const b = this.take(marker === BINARY_20 ? 3 : 4, 'a length');
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = b;
    // BINARY_20 keeps the low four bits of its first byte (decoder.go readInt20).
    return marker === BINARY_20 ? ((b0 & 0x0f) << 16) | (b1 << 8) | b2 : b0 * 0x1000000 + ((b1 << 16) | (b2 << 8) | b3);
  }

  private byte(): number {
    const b = this.data[this.at];
    if (b === undefined) throw malformed(`the element ends at byte ${this.at}, in the middle`);
    this.at++;
    return b;
  }

  private take(n: number, what: string): Uint8Array {
    if (n > this.data.length - this.at) {
      throw malformed(`${what}: ${n} bytes at byte ${this.at} run past the end (${this.data.length} bytes)`);
    }
    const out = this.data.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}
