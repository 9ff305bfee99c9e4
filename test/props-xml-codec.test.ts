/**
 * Properties of the stanza codec (src/protocol/xml-codec.ts): every node the builders can make
 * survives build → parse exactly, and no input — random, truncated, bit-flipped, with a DOCTYPE,
 * entities, deep nesting or invalid UTF-8 — crashes the parser or yields a node it does not promise.
 * On a failure fast-check prints the seed and the shrunk counterexample; a real one becomes a
 * regular test in xml-codec.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './helpers/props-seed.js';
import { isCodecError, PROFILE_LIMITS, type CodecCondition } from '../src/protocol/codec.js';
import type { StanzaNode } from '../src/protocol/node.js';
import { readElementsLeniently, xmlCodec } from '../src/protocol/xml-codec.js';
import { deliveredMessage, encElement, outgoingMessage, receipt } from '../src/protocol/stanzas.js';

const CONDITIONS: ReadonlySet<CodecCondition> = new Set([
  'not-well-formed',
  'restricted-xml',
  'policy-violation',
  'bad-request',
]);
/** What the parser reads as a name: no markup, no space, not starting like a number. */
const NAME = /^[^\s<>&"'=/!?\d.-][^\s<>&"'=/!?]*$/u;
/** XML 1.0 §2.2 Char, on UTF-16 code points. */
const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

const name = fc.stringMatching(/^[A-Za-z_][\w.-]{0,11}(:[A-Za-z_][\w.-]{0,7})?$/);
/** Any XML character, the escaped ones and non-BMP ones weighted in. */
const xmlText = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('<', '>', '&', '"', "'", ';', '#', ' ', '\t', '\n', 'ü', '😀'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 40,
  })
  .filter((s) => XML_CHARS.test(s));

const tree: fc.Arbitrary<StanzaNode> = fc.letrec<{ node: StanzaNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record(
      {
        tag: name,
        attrs: fc.dictionary(name, xmlText, { maxKeys: 4, noNullPrototype: true }),
        children: fc.constant([]),
      },
      { noNullPrototype: true },
    ),
    fc.record(
      {
        tag: name,
        attrs: fc.dictionary(name, xmlText, { maxKeys: 4, noNullPrototype: true }),
        children: fc.constant([]),
        text: xmlText.filter((s) => s !== ''),
      },
      { noNullPrototype: true },
    ),
    fc.record(
      {
        tag: name,
        attrs: fc.dictionary(name, xmlText, { maxKeys: 4, noNullPrototype: true }),
        children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
      },
      { noNullPrototype: true },
    ),
  ),
})).node;

/** What a decoded node promises: names, XML characters, text or children (never both), bounded depth. */
function assertPromised(n: StanzaNode, depth = 1): void {
  assert.match(n.tag, NAME);
  assert.ok(depth <= PROFILE_LIMITS.maxDepth, `depth ${depth}`);
  for (const [k, v] of Object.entries(n.attrs)) {
    assert.match(k, NAME);
    assert.equal(typeof v, 'string');
    assert.match(v, XML_CHARS, `attribute ${k}`);
  }
  if (n.text !== undefined) {
    assert.equal(n.children.length, 0, 'text beside children');
    assert.notEqual(n.text, '');
    assert.match(n.text, XML_CHARS);
  }
  for (const c of n.children) assertPromised(c, depth + 1);
}

/** Decodes, and holds the codec to its word: a node it promises (stable under re-encoding) or a CodecError. */
function decodeOrRefuse(frame: string): StanzaNode | CodecCondition {
  let n: StanzaNode;
  try {
    n = xmlCodec.decode(frame);
  } catch (e) {
    assert.ok(isCodecError(e), `not a CodecError: ${String(e)}`);
    assert.ok(CONDITIONS.has(e.condition), e.condition);
    return e.condition;
  }
  assertPromised(n);
  assert.deepEqual(xmlCodec.decode(xmlCodec.encode(n)), n);
  return n;
}

void test('every node of names, attributes and XML text round-trips build → parse exactly', () => {
  fc.assert(
    fc.property(tree, (n) => {
      assert.deepEqual(xmlCodec.decode(xmlCodec.encode(n)), n);
    }),
    { numRuns: 400 },
  );
});

void test('the profile stanza builders round-trip for any id, address, time and ciphertext', () => {
  const jid = fc.tuple(xmlText, xmlText).map(([u, s]) => `${u}@${s}`);
  fc.assert(
    fc.property(
      xmlText,
      jid,
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.uint8Array({ maxLength: 300 }),
      (id, to, t, bytes) => {
        for (const n of [
          outgoingMessage(id, to, t, encElement('pkmsg', bytes)),
          deliveredMessage(id, to, t, encElement('msg', bytes)),
          receipt({ id, to, t: String(t), type: 'read' }),
        ]) {
          assert.deepEqual(xmlCodec.decode(xmlCodec.encode(n)), n);
        }
      },
    ),
    { numRuns: 200 },
  );
});

/** Ways to break a valid frame. */
const HOSTILE = [
  '<!DOCTYPE a [<!ENTITY x "y">]>',
  '<!ENTITY x SYSTEM "file:///etc/passwd">',
  '&x;',
  '&#0;',
  '&#xD800;',
  '&',
  '&amp',
  '<!--',
  '<?xml version="1.0"?>',
  '<![CDATA[',
  ']]>',
  '<',
  '>',
  '"',
  '\u0000',
  '\u0001',
  '\uFFFE',
  '\uD800',
  '</a>',
  '<a b="1" b="2"/>',
  '<__proto__/>',
  '<a constructor="x"/>',
];

const mutation = (frame: string): fc.Arbitrary<string> => {
  const at = fc.nat({ max: frame.length });
  return fc.oneof(
    at.map((i) => frame.slice(0, i)),
    fc.tuple(at, fc.constantFrom(...HOSTILE)).map(([i, s]) => frame.slice(0, i) + s + frame.slice(i)),
    fc.tuple(fc.nat({ max: Math.max(0, Buffer.byteLength(frame) - 1) }), fc.nat({ max: 7 })).map(([i, bit]) => {
      const bytes = Buffer.from(frame, 'utf8');
      if (bytes.length > 0) bytes[i] = (bytes[i] as number) ^ (1 << bit);
      return bytes.toString('utf8');
    }),
    fc
      .tuple(at, fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([i, raw]) => frame.slice(0, i) + Buffer.from(raw).toString('utf8') + frame.slice(i)),
    fc
      .integer({ min: PROFILE_LIMITS.maxDepth - 2, max: 3000 })
      .map((d) => `${'<a>'.repeat(d)}${frame}${'</a>'.repeat(d)}`),
  );
};

void test('a mutated frame is refused with a codec condition, or parsed into a node the codec promises', () => {
  fc.assert(
    fc.property(
      tree.chain((n) => mutation(xmlCodec.encode(n))),
      (frame) => {
        decodeOrRefuse(frame);
      },
    ),
    { numRuns: 1500 },
  );
});

void test('random bytes and strings never crash the parser', () => {
  const bytes = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('utf8'));
  const markup = fc
    .array(fc.constantFrom('<a>', '</a>', '<b x="1"/>', 'text', ' ', ...HOSTILE), { maxLength: 30 })
    .map((parts) => parts.join(''));
  fc.assert(
    fc.property(fc.oneof(bytes, fc.string({ unit: 'binary' }), markup), (frame) => {
      decodeOrRefuse(frame);
    }),
    { numRuns: 1500 },
  );
});

void test('the lenient reader for observers never throws and never expands an entity', () => {
  fc.assert(
    fc.property(
      tree.chain((n) => mutation(xmlCodec.encode(n))),
      (frame) => {
        const nodes = readElementsLeniently(frame);
        if (nodes === null) return;
        for (const n of nodes) assert.ok(!JSON.stringify(n).includes('file:///'), 'an external entity was read');
      },
    ),
    { numRuns: 500 },
  );
});
