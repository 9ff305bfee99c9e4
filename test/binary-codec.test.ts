import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { isCodecError, PROFILE_LIMITS, type CodecLimits } from '../src/protocol/codec.js';
import { node, type StanzaNode } from '../src/protocol/node.js';
import {
  ack,
  bundleFetchIq,
  bundleResultIq,
  clientOpen,
  closeElement,
  deliveredMessage,
  encElement,
  iqError,
  iqResult,
  outgoingMessage,
  pingIq,
  preKeyUploadIq,
  receipt,
  streamError,
  KYBER_KEY_LENGTH,
} from '../src/protocol/stanzas.js';
import { DICTIONARY_V2 } from '../src/protocol/binary/dictionary-v2.js';
import { DICTIONARY_V3 } from '../src/protocol/binary/dictionary-v3.js';
import { binaryCodec, BinaryNodeCodec } from '../src/protocol/binary/node-codec.js';
import { COMPRESSED, packPlaintext, unpackPlaintext } from '../src/protocol/binary/plaintext.js';
import * as markers from '../src/protocol/binary/tokens.js';
import {
  baileysConstants,
  baileysDecode,
  baileysDecodePlaintext,
  baileysDictVersion,
  baileysEncode,
  baileysTables,
} from './helpers/baileys-binary.js';

const v2 = new BinaryNodeCodec(PROFILE_LIMITS, { dictionary: DICTIONARY_V2 });
const CODECS = [
  { codec: binaryCodec, tables: baileysTables(DICTIONARY_V3) },
  { codec: v2, tables: baileysConstants },
];

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What a decode gave: the node, or the refusal's condition, message and cap. */
function outcome(codec: BinaryNodeCodec, input: Uint8Array): unknown {
  try {
    return codec.decode(input);
  } catch (e) {
    assert.ok(isCodecError(e), `expected a CodecError, got ${String(e)}`);
    return { condition: e.condition, message: e.message, cap: e.cap };
  }
}
const conditionOf = (codec: BinaryNodeCodec, input: Uint8Array): string => {
  const o = outcome(codec, input);
  return typeof o === 'object' && o !== null && 'condition' in o ? String(o.condition) : 'accepted';
};

const LOGIN = '1-10853634039893@interop';
const REFERENCE = '16024415581@s.whatsapp.net';
const upload = preKeyUploadIq('1.2-3', {
  registrationId: 0x3fff,
  identityKey: bytes(32, 1),
  signedPreKey: { id: 0xabcdef, publicKey: bytes(32, 2), signature: bytes(64, 3) },
  oneTimePreKeys: [1, 2, 3].map((id) => ({ id, publicKey: bytes(32, 10 + id) })),
  kyberPreKey: { id: 7, publicKey: bytes(KYBER_KEY_LENGTH, 4), signature: bytes(64, 5) },
});
const bundle = (jid: string): StanzaNode =>
  bundleResultIq('1.2-4', {
    jid,
    registrationId: 1,
    identityKey: bytes(32, 6),
    signedPreKey: { id: 1, publicKey: bytes(32, 7), signature: bytes(64, 8) },
    oneTimePreKey: { id: 9, publicKey: bytes(32, 9) },
  });

/** The project's stanzas between two reference users and the gatekeeper: no interop jid, which Baileys cannot write. */
const SHARED: readonly StanzaNode[] = [
  outgoingMessage('3EB0A1B2C3D4E5F6', REFERENCE, 1_767_225_600, encElement('pkmsg', bytes(300, 1))),
  deliveredMessage('3EB0A1B2C3D4E5F6', REFERENCE, 1_767_225_600, encElement('msg', bytes(90, 2), 'image')),
  upload,
  bundle(REFERENCE),
  bundleFetchIq('1.2-5', REFERENCE),
  receipt({ id: '3EB0A1B2C3D4E5F6', to: REFERENCE, t: '1767225600' }),
  receipt({ id: '3EB0A1B2C3D4E5F6', from: REFERENCE, t: '1767225600', type: 'read' }),
  ack({ class: 'message', id: '3EB0A1B2C3D4E5F6', from: REFERENCE, t: '1767225600' }),
  ack({ class: 'message', id: 'x', error: 'not-well-formed' }),
  pingIq('ping-1'),
  iqResult('ping-1'),
  iqError('1.2-6', 'item-not-found'),
  streamError('not-authorized', 'bad proof'),
  closeElement(),
  node('iq', { id: '1.2-7', type: 'get', xmlns: 'w:p', to: '@s.whatsapp.net' }, [node('ping')]),
  node(
    'message',
    { to: '120363021234567890@g.us', from: '16024415581:3@s.whatsapp.net', participant: '987654:2@lid' },
    [node('enc', { v: '2', type: 'skmsg' }, Buffer.from(bytes(40, 3)).toString('base64'))],
  ),
];

/** The same kinds of stanza with provider users in them, as the gatekeeper's chat server sees them. */
const INTEROP: readonly StanzaNode[] = [
  clientOpen(LOGIN, 'eyJhbGciOiJFUzI1NiJ9.e30.sig', 'q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c'),
  outgoingMessage('3EB0A1B2C3D4E5F6', LOGIN, 1_767_225_600, encElement('pkmsg', bytes(700, 4))),
  deliveredMessage('3EB0A1B2C3D4E5F6', LOGIN, 1_767_225_600, encElement('msg', bytes(1, 5))),
  bundle(LOGIN),
  bundleFetchIq('1.2-8', LOGIN),
  receipt({ id: '3EB0A1B2C3D4E5F6', to: LOGIN, t: '1767225600', type: 'retry' }),
  ack({ class: 'receipt', id: '3EB0A1B2C3D4E5F6', to: '1-4155550100:2@interop' }),
];

void test('the v2 token tables are Baileys 6.17.16 constants.js, and Baileys announces version 2', () => {
  assert.equal(baileysDictVersion, 2, 'a Baileys of another dictionary: hold that version to its tables here');
  assert.deepEqual(
    { single: DICTIONARY_V2.single, double: DICTIONARY_V2.double },
    { single: baileysConstants.SINGLE_BYTE_TOKENS, double: baileysConstants.DOUBLE_BYTE_TOKENS },
  );
});

void test('the v3 token tables are whatsmeow token.go and Baileys 7 constants.ts, by digest', () => {
  // sha256 of JSON [single, double], computed from whatsmeow `binary/token/token.go` (7067ff4) and from
  // Baileys `src/WABinary/constants.ts` (f8a538e), which gave the same lists.
  const digest = createHash('sha256')
    .update(JSON.stringify([DICTIONARY_V3.single, DICTIONARY_V3.double]))
    .digest('hex');
  assert.equal(digest, 'ef9c64a255fb507848cccb6ab6a1cbad74e69dafc69e8755f76e57fc07008eb0');
  assert.deepEqual(
    [DICTIONARY_V3.version, DICTIONARY_V3.single.length, DICTIONARY_V3.double.map((p) => p.length)],
    [3, 236, [256, 256, 256, 256]],
  );
});

void test("the markers are Baileys' TAGS, and the interop jid is whatsmeow's 245", () => {
  const { TAGS } = baileysConstants;
  assert.deepEqual(
    [
      markers.LIST_EMPTY,
      markers.DICTIONARY_0,
      markers.DICTIONARY_3,
      markers.AD_JID,
      markers.LIST_8,
      markers.LIST_16,
      markers.JID_PAIR,
      markers.HEX_8,
      markers.BINARY_8,
      markers.BINARY_20,
      markers.BINARY_32,
      markers.NIBBLE_8,
      markers.PACKED_MAX,
      markers.INTEROP_JID,
    ],
    [
      TAGS['LIST_EMPTY'],
      TAGS['DICTIONARY_0'],
      TAGS['DICTIONARY_3'],
      TAGS['AD_JID'],
      TAGS['LIST_8'],
      TAGS['LIST_16'],
      TAGS['JID_PAIR'],
      TAGS['HEX_8'],
      TAGS['BINARY_8'],
      TAGS['BINARY_20'],
      TAGS['BINARY_32'],
      TAGS['NIBBLE_8'],
      TAGS['PACKED_MAX'],
      245,
    ],
  );
});

void test('the project stanzas round-trip model → bytes → model in both dictionaries', () => {
  for (const { codec } of CODECS) {
    for (const n of [...SHARED, ...INTEROP])
      assert.deepEqual(codec.decode(codec.encode(n)), n, `${codec.name} <${n.tag}>`);
  }
});

void test("our bytes are Baileys' encodeBinaryNode's, after its flags byte, for every stanza it can write", () => {
  for (const { codec, tables } of CODECS) {
    for (const n of SHARED)
      assert.equal(hex(packPlaintext(codec.encode(n))), hex(baileysEncode(n, tables)), codec.name);
  }
});

void test("our decoder reads Baileys' bytes, and Baileys' decoder reads ours, as the same node", async () => {
  for (const { codec, tables } of CODECS) {
    for (const n of SHARED) {
      assert.deepEqual(codec.decode(unpackPlaintext(baileysEncode(n, tables))), n, `${codec.name} <${n.tag}>`);
      assert.deepEqual(baileysDecode(codec.encode(n), tables), n, `${codec.name} <${n.tag}>`);
    }
  }
  // Baileys' whole plaintext reader, flags byte and zlib, with its shipped (v2) tables.
  for (const n of SHARED) {
    assert.deepEqual(await baileysDecodePlaintext(packPlaintext(v2.encode(n), { compress: true })), n);
  }
});

void test('a binary element carries its raw bytes: BINARY_8, BINARY_20 and BINARY_32 by length', () => {
  const wide = new BinaryNodeCodec({ maxBytes: 2 ** 21, maxDepth: 4 });
  for (const [length, head] of [
    [255, [markers.BINARY_8, 0xff]],
    [256, [markers.BINARY_20, 0, 1, 0]],
    [(1 << 20) - 1, [markers.BINARY_20, 0x0f, 0xff, 0xff]],
    [1 << 20, [markers.BINARY_32, 0, 0x10, 0, 0]],
  ] as const) {
    const enc = encElement('msg', bytes(length, 9));
    const encoded = wide.encode(enc);
    // list of 5 (tag, v, type), `enc` `v` `2` `type` `msg`, then the content
    const at = encoded.length - length - head.length;
    assert.deepEqual([...encoded.subarray(at, at + head.length)], [...head], `${length} bytes`);
    assert.deepEqual(encoded.subarray(encoded.length - length), bytes(length, 9));
    assert.deepEqual(wide.decode(encoded), enc);
    assert.equal(hex(packPlaintext(encoded)), hex(baileysEncode(enc, baileysTables(DICTIONARY_V3))));
  }
});

void test("an interop jid is whatsmeow's: 245, user, device and integrator on 16 bits, then `interop`", () => {
  const to = (jid: string): StanzaNode => node('receipt', { to: jid });
  const nibbles = [markers.NIBBLE_8, 0x08, 0x1a, 0x10, 0x85, 0x36, 0x34, 0x03, 0x98, 0x93];
  const server = [markers.BINARY_8, 7, ...Buffer.from('interop')];
  const tag = [...binaryCodec.encode(node('receipt'))].slice(2);
  const attr = [...binaryCodec.encode(node('to'))].slice(2);
  const expect = (device: number[], integrator: number[]): number[] => [
    markers.LIST_8,
    3,
    ...tag,
    ...attr,
    markers.INTEROP_JID,
    ...nibbles,
    ...device,
    ...integrator,
    ...server,
  ];
  assert.deepEqual([...binaryCodec.encode(to(LOGIN))], expect([0, 0], [0, 0]));
  assert.deepEqual([...binaryCodec.encode(to('1-10853634039893:2@interop'))], expect([0, 2], [0, 0]));
  const ours = new BinaryNodeCodec(PROFILE_LIMITS, { integrator: 0x0102 });
  const written = ours.encode(to(LOGIN));
  assert.deepEqual([...written], expect([0, 0], [1, 2]));
  assert.deepEqual(ours.decode(written), to(LOGIN));
  // The model's string has no room for another integrator: it is refused, not dropped.
  assert.deepEqual(outcome(binaryCodec, written), {
    condition: 'bad-request',
    message:
      "bad-request: an interop jid in the attribute to of <receipt> names integrator 258, where this connection's is 0",
    cap: undefined,
  });
});

void test("our decoder reads Baileys 6's interop jids, which it writes as pairs, and Baileys 6 cannot read 245", () => {
  const n = node('receipt', { to: LOGIN });
  const tables = baileysTables(DICTIONARY_V3);
  const pair = baileysEncode(n, tables);
  assert.equal(pair[5], markers.JID_PAIR);
  assert.deepEqual(binaryCodec.decode(unpackPlaintext(pair)), n);
  assert.throws(() => baileysDecode(binaryCodec.encode(n), tables), /invalid string with tag: 245/);
});

void test('each string takes the lineage form: token, page token, nibbles, hex, pair, AD jid, raw', () => {
  const tables = baileysTables(DICTIONARY_V3);
  const cases: ReadonlyArray<[string, number[]]> = [
    ['', [markers.LIST_EMPTY]],
    ['s.whatsapp.net', [3]],
    ['read-self', [markers.DICTIONARY_0, 0]],
    ['123-4.5', [markers.NIBBLE_8, 0x84, 0x12, 0x3a, 0x4b, 0x5f]],
    ['ABCDEF01', [markers.HEX_8, 0x04, 0xab, 0xcd, 0xef, 0x01]],
    ['abcdef01', [markers.BINARY_8, 8, ...Buffer.from('abcdef01')]],
    ['@s.whatsapp.net', [markers.JID_PAIR, markers.LIST_EMPTY, 3]],
    ['4155550100@s.whatsapp.net', [markers.JID_PAIR, markers.NIBBLE_8, 5, 0x41, 0x55, 0x55, 0x01, 0x00, 3]],
    ['4155:7@s.whatsapp.net', [markers.AD_JID, 0, 7, markers.NIBBLE_8, 2, 0x41, 0x55]],
    ['4155:7@lid', [markers.AD_JID, 1, 7, markers.NIBBLE_8, 2, 0x41, 0x55]],
    ['4155:7@hosted', [markers.AD_JID, 128, 7, markers.NIBBLE_8, 2, 0x41, 0x55]],
    [':255@s.whatsapp.net', [markers.AD_JID, 0, 255, markers.LIST_EMPTY]],
    ['x'.repeat(128), [markers.BINARY_8, 128, ...Buffer.from('x'.repeat(128))]],
    ['1'.repeat(128), [markers.BINARY_8, 128, ...Buffer.from('1'.repeat(128))]],
  ];
  for (const [s, expected] of cases) {
    const n = node('a', { k: s });
    const encoded = binaryCodec.encode(n);
    const prefix = [...binaryCodec.encode(node('a', { k: '' }))].slice(0, -1);
    assert.deepEqual([...encoded], [...prefix, ...expected], JSON.stringify(s));
    assert.deepEqual(binaryCodec.decode(encoded), n, JSON.stringify(s));
    // Baileys 6 writes a hosted jid with domain 0, which it reads back on s.whatsapp.net.
    if (!s.endsWith('@hosted')) assert.equal(hex(packPlaintext(encoded)), hex(baileysEncode(n, tables)), s);
  }
});

void test('strings Baileys would change on its own round trip are written raw, and keep every character', () => {
  const tables = baileysTables(DICTIONARY_V3);
  const baileysReads: ReadonlyArray<[string, string]> = [
    ['alice_b@interop', 'alice@interop'],
    ['4155_1:2@s.whatsapp.net', '4155:2@s.whatsapp.net'],
    ['4155:0@s.whatsapp.net', '4155@s.whatsapp.net'],
    ['4155:256@s.whatsapp.net', '4155@s.whatsapp.net'],
    ['4155:02@s.whatsapp.net', '4155:2@s.whatsapp.net'],
    ['4155:2@g.us', '4155:2@s.whatsapp.net'],
    ['4155:2@hosted', '4155:2@s.whatsapp.net'],
    ['a:1:2@s.whatsapp.net', 'a:1@s.whatsapp.net'],
    ['constructor', ''],
    ['toString', ''],
  ];
  for (const [s, theirs] of baileysReads) {
    const n = node('a', { k: s });
    assert.deepEqual(binaryCodec.decode(binaryCodec.encode(n)), n, s);
    assert.deepEqual(baileysDecode(baileysEncode(n, tables).subarray(1), tables), node('a', { k: theirs }), s);
  }
});

void test('text is UTF-8 and keeps a BOM, astral characters and NUL; binary content that is not base64 is not encoded', () => {
  const n = node('body', {}, '\uFEFFnull \u0000 ünï 😀 \r\n');
  assert.deepEqual(binaryCodec.decode(binaryCodec.encode(n)), n);
  const refused = (m: StanzaNode): unknown => {
    try {
      return binaryCodec.encode(m);
    } catch (e) {
      return isCodecError(e) ? [e.condition, e.message] : e;
    }
  };
  assert.deepEqual(refused(node('enc', { v: '2', type: 'msg' }, 'not base64!')), [
    'bad-request',
    'bad-request: <enc> carries binary content, and its text is not base64',
  ]);
  assert.deepEqual(refused(node('body', {}, 'a\uD800b')), [
    'bad-request',
    'bad-request: a string with a lone surrogate has no UTF-8',
  ]);
  // `id` is binary under <key> only; under <message> it is text.
  assert.deepEqual([...binaryCodec.encode(node('key', {}, [node('id', {}, 'AAE=')]))].slice(-4), [
    markers.BINARY_8,
    2,
    0,
    1,
  ]);
  const text = node('message', {}, [node('id', {}, 'AAE=')]);
  assert.deepEqual([...binaryCodec.encode(text)].slice(-6), [markers.BINARY_8, 4, ...Buffer.from('AAE=')]);
  assert.deepEqual(binaryCodec.decode(binaryCodec.encode(text)), text);
});

// ---- hostile input ----

const message = binaryCodec.encode(INTEROP[1] ?? node('x'));
const U = (...b: number[]): Uint8Array => Uint8Array.from(b);
/** `<a>` with one attribute k whose value is the given bytes. */
const withValue = (...value: number[]): Uint8Array =>
  U(markers.LIST_8, 3, markers.BINARY_8, 1, 0x61, markers.BINARY_8, 1, 0x6b, ...value);
/** `<a>` whose content is the given bytes. */
const withContent = (...content: number[]): Uint8Array => U(markers.LIST_8, 2, markers.BINARY_8, 1, 0x61, ...content);

void test('every truncation of a real stanza is refused as not-well-formed', () => {
  for (let i = 0; i < message.length; i++) {
    assert.equal(
      conditionOf(binaryCodec, message.subarray(0, i)),
      'not-well-formed',
      `${i} of ${message.length} bytes`,
    );
  }
});

void test('hostile bytes are refused with the condition they deserve, quickly, whatever they claim', () => {
  const started = Date.now();
  const cases: ReadonlyArray<[string, Uint8Array, string]> = [
    ['empty input', U(), 'not-well-formed: no element: the input is empty'],
    [
      'a length running past the end',
      withContent(markers.BINARY_32, 0xff, 0xff, 0xff, 0xff, 1, 2),
      'not-well-formed: the content of <a>: 4294967295 bytes at byte 10 run past the end (12 bytes)',
    ],
    [
      'LIST_16 claiming 65535 children',
      withContent(markers.LIST_16, 0xff, 0xff),
      'not-well-formed: <a> claims 65535 children, more than the 0 bytes left hold',
    ],
    [
      'LIST_16 claiming 32767 attributes',
      U(markers.LIST_16, 0xff, 0xff, markers.BINARY_8, 1, 0x61),
      'not-well-formed: <a> claims 32767 attributes, more than the 0 bytes left hold',
    ],
    ['an unknown token as the tag', U(markers.LIST_8, 1, 240), 'not-well-formed: a tag: unknown token 240 at byte 2'],
    [
      'an unknown token as a value',
      withValue(246),
      'not-well-formed: the attribute k of <a>: unknown token 246 at byte 8',
    ],
    [
      'an unknown token as content',
      withContent(244),
      'not-well-formed: the content of <a>: unknown token 244 at byte 5',
    ],
    [
      'a node that is not a list',
      U(markers.BINARY_8, 1, 0x61),
      'not-well-formed: an element: marker 252 at byte 0 is not a list',
    ],
    ['a node of no items', U(markers.LIST_EMPTY), 'not-well-formed: an element at byte 0 has no tag'],
    [
      'an empty tag',
      U(markers.LIST_8, 1, markers.LIST_EMPTY),
      'not-well-formed: an element at byte 2 has an empty tag',
    ],
    [
      'a jid in a jid',
      withValue(markers.JID_PAIR, markers.JID_PAIR, 3, 3, 3),
      'not-well-formed: the user of a jid in the attribute k of <a> is a jid (marker 250 at byte 9)',
    ],
    [
      'a list where a string belongs',
      withValue(markers.LIST_8, 1),
      'not-well-formed: the attribute k of <a>: a list (marker 248) at byte 8, where a string belongs',
    ],
    ['bytes after the element', U(...binaryCodec.encode(node('a')), 0), 'not-well-formed: 1 bytes after the element'],
    ['invalid UTF-8', withContent(markers.BINARY_8, 2, 0xc3, 0x28), 'not-well-formed: the content of <a> is not UTF-8'],
    [
      'an encoded surrogate',
      withValue(markers.BINARY_8, 3, 0xed, 0xa0, 0x80),
      'not-well-formed: the attribute k of <a> is not UTF-8',
    ],
    [
      'an overlong UTF-8 NUL',
      withValue(markers.BINARY_8, 2, 0xc0, 0x80),
      'not-well-formed: the attribute k of <a> is not UTF-8',
    ],
    [
      'the same attribute twice',
      U(markers.LIST_8, 5, markers.BINARY_8, 1, 0x61, 8, 3, 8, 3),
      'not-well-formed: <a> has the attribute "id" twice',
    ],
    [
      'a nibble 12',
      withValue(markers.NIBBLE_8, 1, 0xc1),
      'not-well-formed: the attribute k of <a>: byte 0xc1 is not packed digits',
    ],
    [
      'padding inside a nibble string',
      withValue(markers.NIBBLE_8, 2, 0x1f, 0x11),
      'not-well-formed: the attribute k of <a>: byte 0x1f is not packed digits',
    ],
    [
      'an odd hex string not padded with 15',
      withValue(markers.HEX_8, 0x81, 0xab),
      'not-well-formed: the attribute k of <a>: byte 0xab is not packed digits',
    ],
    [
      'an odd packed string of no bytes',
      withValue(markers.NIBBLE_8, 0x80),
      'not-well-formed: the attribute k of <a>: an odd packed string of no bytes',
    ],
    [
      'a pair without a server',
      withValue(markers.JID_PAIR, 3, markers.LIST_EMPTY),
      'not-well-formed: a jid in the attribute k of <a> has no server',
    ],
    [
      'an interop jid on another server',
      withValue(markers.INTEROP_JID, markers.NIBBLE_8, 1, 0x12, 0, 0, 0, 0, 3),
      'not-well-formed: an interop jid in the attribute k of <a> names the server "s.whatsapp.net"',
    ],
    [
      'a string in a binary element',
      U(markers.LIST_8, 2, markers.BINARY_8, 3, ...Buffer.from('enc'), 3),
      'bad-request: <enc> carries binary content, and it holds a string',
    ],
    [
      'an attribute named __proto__',
      U(markers.LIST_8, 3, markers.BINARY_8, 1, 0x61, markers.BINARY_8, 9, ...Buffer.from('__proto__'), 3),
      'policy-violation: the name "__proto__" is not accepted',
    ],
  ];
  for (const [what, input, expected] of cases) {
    const o = outcome(binaryCodec, input) as { message?: string };
    assert.equal(o.message, expected, what);
  }
  assert.ok(Date.now() - started < 200, `${Date.now() - started} ms`);
});

void test('nesting past the depth cap is refused before the codec descends, at any claimed depth', () => {
  const nested = (depth: number): Uint8Array => {
    const open = [markers.LIST_8, 2, markers.BINARY_8, 1, 0x61, markers.LIST_8, 1];
    const innermost = [markers.LIST_8, 1, markers.BINARY_8, 1, 0x61];
    return Uint8Array.from([...Array.from({ length: depth - 1 }, () => open).flat(), ...innermost]);
  };

  assert.equal(conditionOf(binaryCodec, nested(PROFILE_LIMITS.maxDepth)), 'accepted');
  assert.deepEqual(outcome(binaryCodec, nested(PROFILE_LIMITS.maxDepth + 1)), {
    condition: 'policy-violation',
    message: 'policy-violation: element nesting deeper than 32',
    cap: undefined,
  });
  assert.equal(conditionOf(binaryCodec, nested(20_000)), 'policy-violation');
});

// ---- limits ----

const CAPPED: CodecLimits = {
  maxBytes: 64,
  maxDepth: 3,
  maxAttributes: 2,
  maxTextLength: 8,
  names: {
    maxBytes: 'xml-bytes',
    maxDepth: 'xml-depth',
    maxAttributes: 'xml-attributes',
    maxTextLength: 'xml-text-bytes',
  },
};
const capped = new BinaryNodeCodec(CAPPED);

void test('each limit holds at its boundary and refuses one step past it, naming its cap', () => {
  const refusal = (input: Uint8Array): unknown => outcome(capped, input);
  const cap = (name: string, value: number): { name: string; value: number } => ({ name, value });
  // maxBytes: a text long enough to make the element exactly 64 bytes, then 65.
  const overhead = capped.encode(node('a', { k: 'xx' })).length - 2;
  const sized = (n: number): StanzaNode => node('a', { k: 'x'.repeat(n - overhead) });
  assert.equal(capped.encode(sized(64)).length, 64);
  assert.deepEqual(capped.decode(capped.encode(sized(64))), sized(64));
  assert.deepEqual(refusal(capped.encode(sized(65))), {
    condition: 'policy-violation',
    message: 'policy-violation: element of 65 bytes exceeds the 64-byte limit (cap xml-bytes=64)',
    cap: cap('xml-bytes', 64),
  });
  const deep = (d: number): StanzaNode => (d === 1 ? node('a') : node('a', {}, [deep(d - 1)]));
  assert.deepEqual(capped.decode(capped.encode(deep(3))), deep(3));
  assert.deepEqual(refusal(capped.encode(deep(4))), {
    condition: 'policy-violation',
    message: 'policy-violation: element nesting deeper than 3 (cap xml-depth=3)',
    cap: cap('xml-depth', 3),
  });
  assert.deepEqual(capped.decode(capped.encode(node('a', { x: '1', y: '2' }))), node('a', { x: '1', y: '2' }));
  assert.deepEqual(refusal(capped.encode(node('a', { x: '1', y: '2', z: '3' }))), {
    condition: 'policy-violation',
    message: 'policy-violation: an element with 3 attributes exceeds 2 (cap xml-attributes=2)',
    cap: cap('xml-attributes', 2),
  });
  assert.deepEqual(capped.decode(capped.encode(node('a', {}, 'ü'.repeat(8)))), node('a', {}, 'ü'.repeat(8)));
  assert.deepEqual(refusal(capped.encode(node('a', {}, 'ü'.repeat(9)))), {
    condition: 'policy-violation',
    message: 'policy-violation: text of 9 characters exceeds 8 (cap xml-text-bytes=8)',
    cap: cap('xml-text-bytes', 8),
  });
  // A binary element's text is its base64: 6 bytes are 8 characters, 7 are 12.
  const enc = (n: number): StanzaNode => node('enc', {}, Buffer.from(bytes(n, 1)).toString('base64'));
  assert.deepEqual(capped.decode(capped.encode(enc(6))), enc(6));
  assert.deepEqual(refusal(capped.encode(enc(7))), {
    condition: 'policy-violation',
    message: 'policy-violation: text of 12 characters exceeds 8 (cap xml-text-bytes=8)',
    cap: cap('xml-text-bytes', 8),
  });
});

void test("the profile's own limits name no cap", () => {
  const big = new BinaryNodeCodec({ maxBytes: 2 ** 20, maxDepth: 4 }).encode(
    encElement('msg', bytes(PROFILE_LIMITS.maxBytes, 1)),
  );
  assert.deepEqual(outcome(binaryCodec, big), {
    condition: 'policy-violation',
    message: `policy-violation: element of ${big.length} bytes exceeds the 262144-byte limit`,
    cap: undefined,
  });
});

// ---- frame plaintext ----

void test('a plaintext is a flags byte and the node, deflated when the flags byte says 2', () => {
  const n = binaryCodec.encode(INTEROP[0] ?? node('x'));
  assert.deepEqual(packPlaintext(n), U(0, ...n));
  const deflated = packPlaintext(n, { compress: true });
  assert.deepEqual([deflated[0], unpackPlaintext(deflated)], [COMPRESSED, n]);
  assert.deepEqual(unpackPlaintext(U(0, ...n)), n);
  // Neither lineage reads the other bits of the flags.
  assert.deepEqual(unpackPlaintext(U(0x05, ...n)), n);
  assert.deepEqual(unpackPlaintext(U(0x06, ...deflateSync(n))), n);
});

void test('a zlib bomb is refused at the size cap, without inflating past it', () => {
  const bomb = packPlaintext(new Uint8Array(64 * 1024 * 1024), { compress: true });
  const started = Date.now();
  assert.throws(
    () => unpackPlaintext(bomb, CAPPED),
    (e: unknown) =>
      isCodecError(e) &&
      e.condition === 'policy-violation' &&
      e.message === 'policy-violation: a deflated element inflates past the 64-byte limit (cap xml-bytes=64)',
  );
  assert.throws(
    () => unpackPlaintext(bomb),
    (e: unknown) => isCodecError(e) && e.cap === undefined,
  );
  assert.ok(Date.now() - started < 500, `${Date.now() - started} ms`);
});

void test('a plaintext holds at maxBytes and refuses one byte past, deflated or not', () => {
  const at = (n: number, compress: boolean): unknown => {
    try {
      return unpackPlaintext(packPlaintext(bytes(n, 2), { compress }), CAPPED).length;
    } catch (e) {
      return isCodecError(e) ? e.cap : e;
    }
  };
  assert.deepEqual(
    [at(64, false), at(65, false), at(64, true), at(65, true)],
    [64, { name: 'xml-bytes', value: 64 }, 64, { name: 'xml-bytes', value: 64 }],
  );
});

void test('an empty, truncated or corrupt plaintext is refused as not-well-formed', () => {
  const deflated = packPlaintext(binaryCodec.encode(upload), { compress: true });
  for (const input of [U(), U(COMPRESSED), deflated.subarray(0, deflated.length - 4), U(COMPRESSED, 1, 2, 3)]) {
    assert.throws(
      () => unpackPlaintext(input),
      (e: unknown) => isCodecError(e) && e.condition === 'not-well-formed',
      hex(input.subarray(0, 8)),
    );
  }
});

// Counterexamples found by the properties in props-binary-codec.test.ts.
void test('an element named like an Object.prototype member is an element like any other', () => {
  const n = node('iq', { constructor: 'toString' }, [
    node('constructor', {}, 'x'),
    node('toString', {}, [node('hasOwnProperty', { valueOf: '1' }, 'y')]),
  ]);
  for (const { codec } of CODECS) assert.deepEqual(codec.decode(codec.encode(n)), n);
});

void test("an AD jid with an empty user is Baileys' own, and round-trips as it does", () => {
  const n = node('a', { k: ':255@s.whatsapp.net' });
  const tables = baileysTables(DICTIONARY_V3);
  assert.equal(hex(packPlaintext(binaryCodec.encode(n))), hex(baileysEncode(n, tables)));
  assert.deepEqual(binaryCodec.decode(binaryCodec.encode(n)), n);
});

void test('a ciphertext of megabytes goes through as bytes: its base64 is validated without a regex that runs out of stack', () => {
  const ciphertext = new Uint8Array(4 * 1024 * 1024).fill(0xa5);
  const text = Buffer.from(ciphertext).toString('base64');
  const message = node('message', { id: 'M1', type: 'text' }, [node('enc', { v: '2', type: 'msg' }, text)]);
  const bytes = new BinaryNodeCodec({ ...PROFILE_LIMITS, maxBytes: 8 * 1024 * 1024 }).encode(message);
  assert.ok(bytes.length > ciphertext.length && bytes.length < ciphertext.length + 64, `${bytes.length} bytes`);
  assert.deepEqual(new BinaryNodeCodec({ ...PROFILE_LIMITS, maxBytes: 8 * 1024 * 1024 }).decode(bytes), message);
});
