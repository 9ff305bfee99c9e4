/**
 * How the client reads what the gatekeeper sends. The clean client uses the shared restricted codec
 * (docs/PROFILE.md §2–§3): it refuses DTDs, entities, comments and processing instructions without
 * expanding anything, and bounds size and depth. Faults weaken or shift those bounds, each in one branch below.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CodecError, isCodecError, PROFILE_LIMITS, type CodecLimits, type StanzaCodec } from '../protocol/codec.js';
import type { StanzaNode } from '../protocol/node.js';
import { scanBounds, XmlTextCodec, xmlCodec } from '../protocol/xml-codec.js';
import type { FaultSet } from './faults.js';
import { BinaryNodeCodec } from '../protocol/binary/node-codec.js';
import { COMPRESSED, unpackPlaintext } from '../protocol/binary/plaintext.js';

function inboundLimits(faults: FaultSet): CodecLimits {
  let limits: CodecLimits = PROFILE_LIMITS;
  const { maxBytes, maxDepth } = PROFILE_LIMITS;
  if (faults.has('no-size-limit')) limits = { ...limits, maxBytes: Number.POSITIVE_INFINITY };
  if (faults.has('size-limit-one-over')) limits = { ...limits, maxBytes: maxBytes + 1 };
  if (faults.has('size-limit-one-under')) limits = { ...limits, maxBytes: maxBytes - 1 };
  if (faults.has('no-depth-limit')) limits = { ...limits, maxDepth: Number.POSITIVE_INFINITY };
  if (faults.has('depth-limit-one-over')) limits = { ...limits, maxDepth: maxDepth + 1 };
  if (faults.has('depth-limit-one-under')) limits = { ...limits, maxDepth: maxDepth - 1 };
  return limits;
}

/** noise-binary: a frame's plaintext to its element, under the same limits (and faults) as XML. */
export function inboundBinary(faults: FaultSet): (plaintext: Uint8Array) => StanzaNode {
  const limits = inboundLimits(faults);
  const codec = new BinaryNodeCodec(limits);
  return (plaintext) => {
    if (faults.has('noise-refuse-compressed') && ((plaintext[0] ?? 0) & COMPRESSED) !== 0)
      throw new CodecError('not-well-formed', 'a deflated frame');
    // The fault inflates up to Node's largest buffer and leaves the cap to the decoder.
    if (faults.has('noise-inflate-uncapped'))
      return codec.decode(unpackPlaintext(plaintext, { ...limits, maxBytes: 2 ** 31 - 1 }));
    return codec.decode(unpackPlaintext(plaintext, limits));
  };
}

export function inboundCodec(faults: FaultSet): StanzaCodec {
  const limits = inboundLimits(faults);
  let codec: StanzaCodec = faults.has('size-limit-characters')
    ? new CharacterCountingCodec(limits)
    : limits === PROFILE_LIMITS
      ? xmlCodec
      : new XmlTextCodec(limits);
  if (faults.has('accept-restricted-xml')) codec = new PermissiveXmlCodec(limits);
  return faults.has('accept-mixed-content') ? new TextDroppingCodec(codec) : codec;
}

// ---- the `size-limit-characters` fault ----

/** Measures an element by its string's length, in UTF-16 code units, where STANZA-SIZE counts UTF-8 bytes. */
class CharacterCountingCodec implements StanzaCodec {
  readonly name = 'xml-text-characters';
  private readonly inner: StanzaCodec;
  constructor(private readonly limits: CodecLimits) {
    this.inner = new XmlTextCodec({ ...limits, maxBytes: Number.POSITIVE_INFINITY });
  }

  encode(n: StanzaNode): string {
    return this.inner.encode(n);
  }

  decode(frame: string): StanzaNode {
    if (frame.length > this.limits.maxBytes)
      throw new CodecError('policy-violation', `element of ${frame.length} characters exceeds the limit`);
    return this.inner.decode(frame);
  }
}

// ---- the `accept-mixed-content` fault ----

/** Reads an element that mixes text and children by dropping the text, where the profile says bad-request. */
class TextDroppingCodec implements StanzaCodec {
  readonly name = 'xml-text-mixed';
  constructor(private readonly inner: StanzaCodec) {}

  encode(n: StanzaNode): string {
    return this.inner.encode(n);
  }

  decode(frame: string): StanzaNode {
    try {
      return this.inner.decode(frame);
    } catch (e) {
      if (!isCodecError(e) || e.condition !== 'bad-request') throw e;
      return this.inner.decode(frame.replace(/>[^<]+</g, '><'));
    }
  }
}

// ---- the `accept-restricted-xml` fault ----

const permissiveParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Internal DTD entities are expanded, as a general-purpose parser does; the caps keep an entity
  // bomb from costing more than a moment even here.
  processEntities: {
    enabled: true,
    maxEntitySize: 4096,
    maxEntityCount: 64,
    maxTotalExpansions: 1000,
    maxExpandedLength: 64 * 1024,
  },
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type Parsed = Record<string, unknown>;

/**
 * A deliberately careless decoder: it parses DOCTYPEs, entities, comments, processing instructions
 * and CDATA "like any XML" (the profile requires a refusal). Sizes, depth and well-formedness are
 * still checked, so that only the restricted-XML answers change.
 */
class PermissiveXmlCodec implements StanzaCodec {
  readonly name = 'xml-text-permissive';
  constructor(private readonly limits: CodecLimits) {}

  encode(n: StanzaNode): string {
    return xmlCodec.encode(n);
  }

  decode(frame: string): StanzaNode {
    const bytes = Buffer.byteLength(frame, 'utf8');
    if (bytes > this.limits.maxBytes)
      throw new CodecError(
        'policy-violation',
        `element of ${bytes} bytes exceeds the ${this.limits.maxBytes}-byte limit`,
      );
    scanBounds(frame, this.limits);
    const valid = XMLValidator.validate(frame);
    if (valid !== true) throw new CodecError('not-well-formed', valid.err.msg);
    const top = (permissiveParser.parse(frame) as Parsed[]).filter(
      (p) => !('#text' in p && String(p['#text']).trim() === ''),
    );
    if (top.length !== 1 || top[0] === undefined || '#text' in top[0]) {
      throw new CodecError('not-well-formed', `expected exactly one element, found ${top.length} top-level items`);
    }
    return toNode(top[0]);
  }
}

function toNode(p: Parsed): StanzaNode {
  const tag = Object.keys(p).find((k) => k !== ':@') ?? '';
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries((p[':@'] ?? {}) as Record<string, unknown>)) attrs[k] = leftovers(String(v));
  const items = (p[tag] ?? []) as Parsed[];
  const elements = items.filter((i) => !('#text' in i));
  if (elements.length > 0) return { tag, attrs, children: elements.map(toNode) };
  const text = leftovers(items.map((i) => (i['#text'] as string | undefined) ?? '').join(''));
  return text === '' ? { tag, attrs, children: [] } : { tag, attrs, children: [], text };
}

/**
 * The parser expands declared and predefined entities but leaves character references and
 * references it could not resolve (undeclared, or nested past its caps) as they were. A lenient
 * reader decodes the first and drops the second.
 */
function leftovers(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_:][\w.:-]*);/g, (_, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return '';
  });
}
