import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beyond, CodecError, isCodecError, PROFILE_LIMITS, type CodecLimits, type StanzaCodec } from './codec.js';
import type { StanzaNode } from './node.js';

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

// RFC 6120 §11.1: no comments, processing instructions, DTDs or entity references other than the
// predefined ones. The profile also refuses XML declarations and CDATA sections in framed elements.
const RESTRICTED: ReadonlyArray<[RegExp, string]> = [
  [/<!DOCTYPE/i, 'DOCTYPE declaration'],
  [/<!ENTITY/i, 'ENTITY declaration'],
  [/<!--/, 'comment'],
  [/<\?/, 'processing instruction or XML declaration'],
  [/<!\[CDATA\[/, 'CDATA section'],
];
const REFERENCE = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_:][\w.:-]*)?(;)?/g;
/** Anything outside XML 1.0 §2.2 Char, lone surrogates included. */
const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: false,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: false,
  ignorePiTags: false,
  onDangerousProperty: refuseName,
});

/**
 * The parser would rename an element or attribute called `toString` (or refuse `__proto__` with a
 * bare Error), to keep its objects safe: either way a name would change, so the name is refused.
 */
function refuseName(name: string): never {
  throw new CodecError('policy-violation', `the name ${JSON.stringify(name)} is not accepted`);
}

type Parsed = Record<string, unknown>;

export class XmlTextCodec implements StanzaCodec {
  readonly name = 'xml-text';
  constructor(private readonly limits: CodecLimits = PROFILE_LIMITS) {}

  encode(n: StanzaNode): string {
    let out = `<${n.tag}`;
    for (const [k, v] of Object.entries(n.attrs)) out += ` ${k}="${escapeAttr(v)}"`;
    if (n.children.length > 0) {
      out += '>';
      for (const c of n.children) out += this.encode(c);
      return `${out}</${n.tag}>`;
    }
    if (n.text !== undefined && n.text !== '') return `${out}>${escapeText(n.text)}</${n.tag}>`;
    return `${out}/>`;
  }

  decode(frame: string): StanzaNode {
    const bytes = Buffer.byteLength(frame, 'utf8');
    if (bytes > this.limits.maxBytes) {
      throw beyond(this.limits, 'maxBytes', `element of ${bytes} bytes exceeds the ${this.limits.maxBytes}-byte limit`);
    }
    for (const [pattern, what] of RESTRICTED) {
      if (pattern.test(frame)) throw new CodecError('restricted-xml', `${what} not allowed`);
    }
    checkReferences(frame);
    checkCharacters(frame);
    scanBounds(frame, this.limits);
    const valid = XMLValidator.validate(frame, { allowBooleanAttributes: false });
    if (valid !== true) {
      throw new CodecError('not-well-formed', `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
    }
    const top = parse(frame).filter((p) => !isBlankText(p));
    if (top.length !== 1 || top[0] === undefined || '#text' in top[0]) {
      throw new CodecError('not-well-formed', `expected exactly one element, found ${top.length} top-level items`);
    }
    return toNode(top[0]);
  }
}

function parse(frame: string): Parsed[] {
  try {
    return parser.parse(frame) as Parsed[];
  } catch (e) {
    if (isCodecError(e)) throw e;
    throw new CodecError('policy-violation', `the parser refused the element: ${(e as Error).message}`);
  }
}

function checkReferences(frame: string): void {
  for (const m of frame.matchAll(REFERENCE)) {
    const [, name, semi] = m;
    if (name === undefined || semi === undefined) {
      throw new CodecError('not-well-formed', `bare '&' at offset ${m.index}`);
    }
    if (name.startsWith('#')) {
      const code = name.startsWith('#x') ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (!isXmlChar(code))
        throw new CodecError('not-well-formed', `character reference &${name}; is not an XML character`);
      continue;
    }
    if (!(name in PREDEFINED)) throw new CodecError('restricted-xml', `entity reference &${name}; is not predefined`);
  }
}

function checkCharacters(frame: string): void {
  const at = frame.search(NON_XML_CHAR);
  if (at < 0) return;
  const code = (frame.codePointAt(at) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  throw new CodecError('not-well-formed', `character U+${code} at offset ${at} is not an XML character`);
}

/** XML 1.0 §2.2 Char production. */
function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

/**
 * Cheap pre-parse bounds on nesting, attributes and text, so that a deep, wide or long element
 * never reaches the parser (its recursion, its attribute maps, its strings): one pass over the tags.
 */
export function scanBounds(frame: string, limits: CodecLimits): void {
  const { maxDepth, maxAttributes = Infinity, maxTextLength = Infinity } = limits;
  let depth = 0;
  let textStart = 0;
  for (const m of frame.matchAll(/<([/!?])?[^<>]*?(\/)?>/g)) {
    if (m.index - textStart > maxTextLength) {
      throw beyond(limits, 'maxTextLength', `text of ${m.index - textStart} characters exceeds ${maxTextLength}`);
    }
    textStart = m.index + m[0].length;
    if (m[1] === '/') {
      depth--;
      continue;
    }
    // A declaration, DTD, comment or processing instruction opens no element.
    if (m[1] !== undefined) continue;
    if (depth + 1 > maxDepth) throw beyond(limits, 'maxDepth', `element nesting deeper than ${maxDepth}`);
    if (maxAttributes !== Infinity) {
      const attributes = m[0].match(/\s[^\s=<>/]+\s*=/g)?.length ?? 0;
      if (attributes > maxAttributes) {
        throw beyond(limits, 'maxAttributes', `an element with ${attributes} attributes exceeds ${maxAttributes}`);
      }
    }
    if (!m[2]) depth++;
  }
  if (frame.length - textStart > maxTextLength) {
    throw beyond(limits, 'maxTextLength', `text of ${frame.length - textStart} characters exceeds ${maxTextLength}`);
  }
}

function isBlankText(p: Parsed): boolean {
  return '#text' in p && String(p['#text']).trim() === '';
}

function toNode(p: Parsed): StanzaNode {
  const tag = Object.keys(p).find((k) => k !== ':@');
  if (tag === undefined) throw new CodecError('not-well-formed', 'empty element');
  const rawAttrs = (p[':@'] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) attrs[k] = unescape(String(v));
  const items = (p[tag] ?? []) as Parsed[];
  const elements = items.filter((i) => !('#text' in i));
  const text = items
    .filter((i) => '#text' in i)
    .map((i) => String(i['#text']))
    .join('');
  if (elements.length > 0) {
    if (text.trim() !== '') throw new CodecError('bad-request', `<${tag}> mixes text and child elements`);
    return { tag, attrs, children: elements.map(toNode) };
  }
  return text === '' ? { tag, attrs, children: [] } : { tag, attrs, children: [], text: unescape(text) };
}

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|apos|quot);/g, (_, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return PREDEFINED[ref] ?? '';
  });
}

// A parser normalises a raw CR (XML 1.0 §2.11) and raw whitespace in attributes (§3.3.3):
// written as character references they survive, so what is built is what is read.
function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

export const xmlCodec = new XmlTextCodec();

const lenientParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  onDangerousProperty: refuseName,
});

/**
 * For observers only, never for a client's own input: the elements in a frame that the strict
 * codec refused (a declaration, a comment, two elements at once), so that the gatekeeper can
 * still route and a check can still see what was sent. Entities are never expanded.
 */
export function readElementsLeniently(frame: string): StanzaNode[] | null {
  if (Buffer.byteLength(frame, 'utf8') > PROFILE_LIMITS.maxBytes * 4) return null;
  // Declarations, DTDs, comments and processing instructions go: the validator refuses them inside
  // the wrapping root, and the parser is not to see a DTD.
  const stripped = frame
    .replace(/<!DOCTYPE[^>]*(\[[\s\S]*?\])?\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<\?[\s\S]*?\?>/g, '');
  try {
    scanBounds(stripped, PROFILE_LIMITS);
  } catch {
    return null;
  }
  if (XMLValidator.validate(`<lenient-root>${stripped}</lenient-root>`) !== true) return null;
  try {
    return (lenientParser.parse(stripped) as Parsed[]).filter((p) => !('#text' in p)).map(toNode);
  } catch {
    return null;
  }
}
