/**
 * Properties of the binary node codec (src/protocol/binary/): every node of the model survives
 * model → bytes → model exactly, in either dictionary; wherever Baileys' own codec keeps a node, its
 * encoder writes our bytes and its decoder reads ours as that node; and no input, random, truncated
 * or bit-flipped, crashes the decoder or yields a node that does not survive its own round trip.
 * On a failure fast-check prints the seed and the shrunk counterexample; a real one becomes a
 * regular test in binary-codec.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import './helpers/props-seed.js';
import { isCodecError, type CodecCondition } from '../src/protocol/codec.js';
import type { StanzaNode } from '../src/protocol/node.js';
import { BINARY_CONTENT, hasBinaryContent } from '../src/protocol/stanzas.js';
import { DICTIONARY_V2 } from '../src/protocol/binary/dictionary-v2.js';
import { DICTIONARY_V3 } from '../src/protocol/binary/dictionary-v3.js';
import { binaryCodec, BinaryNodeCodec } from '../src/protocol/binary/node-codec.js';
import { packPlaintext, unpackPlaintext } from '../src/protocol/binary/plaintext.js';
import { baileysConstants, baileysDecode, baileysEncode, baileysTables } from './helpers/baileys-binary.js';

const CODECS = [
  { codec: binaryCodec, tables: baileysTables(DICTIONARY_V3) },
  { codec: new BinaryNodeCodec(undefined, { dictionary: DICTIONARY_V2 }), tables: baileysConstants },
];
const CONDITIONS: ReadonlySet<CodecCondition> = new Set([
  'not-well-formed',
  'restricted-xml',
  'policy-violation',
  'bad-request',
]);
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const tokens = [...DICTIONARY_V3.single.slice(1), ...DICTIONARY_V3.double.flat().filter((_, i) => i % 16 === 0)];
const token = fc.constantFrom(...tokens, ...DICTIONARY_V2.single.slice(1, 40));
const nibbles = fc.stringMatching(/^[0-9.-]{1,130}$/);
const hexDigits = fc.stringMatching(/^[0-9A-F]{1,130}$/);
const text = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('a', '_', ':', '.', '-', '@', '0', 'ü', '😀', '\0', '\uFEFF'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 40,
  })
  .filter((s) => !LONE_SURROGATE.test(s));
const user = fc.oneof(
  fc.constant(''),
  nibbles.map((s) => s.slice(0, 16)),
  fc.stringMatching(/^[A-Za-z0-9+._-]{1,12}$/),
);
const device = fc.oneof(fc.constant(''), fc.constantFrom(':0', ':1', ':02', ':255', ':256', ':65535', ':65536', ':x'));
const server = fc.oneof(
  fc.constantFrom('s.whatsapp.net', 'lid', 'hosted', 'hosted.lid', 'g.us', 'interop', 'broadcast', 'msgr', ''),
  text,
);
const jid = fc.tuple(user, device, server).map(([u, d, s]) => `${u}${d}@${s}`);
const value = fc.oneof(token, nibbles, hexDigits, jid, text, fc.constant(''));
const name = fc.oneof(
  token,
  fc.constantFrom(...Object.keys(BINARY_CONTENT), 'iq', 'user', 'key', 'skey', 'kskey', 'message'),
  fc.stringMatching(/^[A-Za-z_][\w.:-]{0,11}$/),
  text.filter((s) => s !== ''),
);

const attrs = fc.dictionary(
  name.filter((k) => k !== '__proto__'),
  value,
  { maxKeys: 4, noNullPrototype: true },
);
const shape: fc.Arbitrary<StanzaNode> = fc.letrec<{ node: StanzaNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ tag: name, attrs, children: fc.constant([]) }, { noNullPrototype: true }),
    fc.record(
      { tag: name, attrs, children: fc.constant([]), text: value.filter((s) => s !== '') },
      { noNullPrototype: true },
    ),
    fc.record(
      { tag: name, attrs, children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }) },
      { noNullPrototype: true },
    ),
  ),
})).node;

/** A binary element's text is base64 in the model: here, of the text's own UTF-8 bytes. */
function binaryAsBase64(n: StanzaNode, parent: string | undefined): StanzaNode {
  if (n.text !== undefined && hasBinaryContent(n.tag, parent)) {
    return { ...n, text: Buffer.from(n.text, 'utf8').toString('base64') };
  }
  return { ...n, children: n.children.map((c) => binaryAsBase64(c, n.tag)) };
}
const tree = shape.map((n) => binaryAsBase64(n, undefined));

const strings = (n: StanzaNode): string[] => [
  n.tag,
  ...Object.entries(n.attrs).flat(),
  ...(n.text === undefined ? [] : [n.text]),
  ...n.children.flatMap(strings),
];

/**
 * What Baileys' own codec keeps, and we write as it does: its round trip is the identity, and no
 * string is an interop jid (which it writes as a pair, we as whatsmeow's 245) or has two `@` (which
 * it writes as a jid in a jid's server, and we as a raw string: whatsmeow reads no such thing, and
 * reading one would nest as deep as the input is long).
 */
function baileysKeeps(n: StanzaNode, tables: (typeof CODECS)[number]['tables']): boolean {
  if (strings(n).some((s) => s.includes('@interop') || s.indexOf('@') !== s.lastIndexOf('@'))) return false;
  try {
    return isDeepStrictEqual(baileysDecode(baileysEncode(n, tables).subarray(1), tables), n);
  } catch {
    return false;
  }
}

void test('every node round-trips model → bytes → model exactly, in both dictionaries', () => {
  fc.assert(
    fc.property(tree, (n) => {
      for (const { codec } of CODECS) assert.deepEqual(codec.decode(codec.encode(n)), n);
    }),
    { numRuns: 500 },
  );
});

void test('wherever Baileys keeps a node, its encoder writes our bytes and its decoder reads ours', () => {
  let kept = 0;
  fc.assert(
    fc.property(tree, (n) => {
      for (const { codec, tables } of CODECS) {
        if (!baileysKeeps(n, tables)) continue;
        kept++;
        const ours = codec.encode(n);
        assert.deepEqual(packPlaintext(ours), baileysEncode(n, tables));
        assert.deepEqual(baileysDecode(ours, tables), n);
      }
    }),
    { numRuns: 500 },
  );
  // The generator is not to drift into nodes Baileys never keeps, which would make this vacuous.
  assert.ok(kept > 300, `Baileys kept only ${kept} of 1000 nodes`);
});

/** Decodes, and holds the codec to its word: a node that survives its own round trip, or a CodecError. */
function decodeOrRefuse(codec: BinaryNodeCodec, input: Uint8Array): void {
  let n: StanzaNode;
  try {
    n = codec.decode(input);
  } catch (e) {
    assert.ok(isCodecError(e), `not a CodecError: ${String(e)}`);
    assert.ok(CONDITIONS.has(e.condition), e.condition);
    return;
  }
  assert.deepEqual(codec.decode(codec.encode(n)), n);
}

const mutation = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> => {
  const at = fc.nat({ max: bytes.length });
  const markers = fc.constantFrom(0, 236, 239, 240, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255);
  return fc.oneof(
    at.map((i) => bytes.slice(0, i)),
    fc.tuple(at, fc.nat({ max: 7 })).map(([i, bit]) => {
      const out = bytes.slice();
      if (i < out.length) out[i] = (out[i] ?? 0) ^ (1 << bit);
      return out;
    }),
    fc.tuple(at, markers).map(([i, m]) => {
      const out = bytes.slice();
      if (i < out.length) out[i] = m;
      return out;
    }),
    fc
      .tuple(at, fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([i, raw]) => Uint8Array.from([...bytes.subarray(0, i), ...raw, ...bytes.subarray(i)])),
  );
};

void test('a mutated encoding is refused with a codec condition, or read as a node that round-trips', () => {
  fc.assert(
    fc.property(
      tree.chain((n) => mutation(binaryCodec.encode(n))),
      (input) => decodeOrRefuse(binaryCodec, input),
    ),
    { numRuns: 1500 },
  );
});

void test('random bytes never crash the decoder or the plaintext reader', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
      decodeOrRefuse(binaryCodec, input);
      try {
        decodeOrRefuse(binaryCodec, unpackPlaintext(input));
      } catch (e) {
        assert.ok(isCodecError(e) && CONDITIONS.has(e.condition), `not a CodecError: ${String(e)}`);
      }
    }),
    { numRuns: 1500 },
  );
});

void test('a plaintext gives back its node bytes, deflated or not', () => {
  fc.assert(
    fc.property(tree, fc.boolean(), (n, compress) => {
      const bytes = binaryCodec.encode(n);
      assert.deepEqual(unpackPlaintext(packPlaintext(bytes, { compress })), bytes);
    }),
    { numRuns: 200 },
  );
});
