import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCodecError, PROFILE_LIMITS } from '../src/protocol/codec.js';
import { node } from '../src/protocol/node.js';
import { readElementsLeniently, XmlTextCodec, xmlCodec } from '../src/protocol/xml-codec.js';

function refusal(frame: string, codec = xmlCodec): string {
  try {
    codec.decode(frame);
  } catch (e) {
    assert.ok(isCodecError(e), `expected a CodecError, got ${String(e)}`);
    return e.condition;
  }
  return 'accepted';
}

void test('round-trips attributes and text with every character that needs escaping', () => {
  const n = node('message', { id: 'a"b<c>&d\'e', to: 'x@interop' }, [node('body', {}, '1 < 2 && "3" > \'0\' ünï 😀')]);
  const text = xmlCodec.encode(n);
  assert.deepEqual(xmlCodec.decode(text), n);
});

void test('decodes character references and the five predefined entities', () => {
  const n = xmlCodec.decode('<a x="&#65;&#x42;&lt;"><b>&amp;&apos;&quot;&gt;</b></a>');
  assert.equal(n.attrs['x'], 'AB<');
  assert.equal(n.children[0]?.text, `&'">`);
});

void test('ignores whitespace between elements but refuses mixed content', () => {
  assert.equal(xmlCodec.decode('<a>\n  <b/>\n</a>').children.length, 1);
  assert.equal(refusal('<a>text<b/></a>'), 'bad-request');
});

void test('refuses restricted XML with restricted-xml (RFC 6120 §11.1)', () => {
  const cases = [
    '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    '<a><!-- hi --></a>',
    '<?xml version="1.0"?><a/>',
    '<a><?pi data?></a>',
    '<a>&nbsp;</a>',
    '<a><![CDATA[x]]></a>',
  ];
  for (const frame of cases) assert.equal(refusal(frame), 'restricted-xml', frame);
});

void test('refuses a billion-laughs bomb without expanding it', () => {
  const lol =
    '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' +
    Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`,
    ).join('') +
    ']><message>&j;</message>';
  const started = Date.now();
  assert.equal(refusal(lol), 'restricted-xml');
  assert.ok(Date.now() - started < 100);
});

void test('refuses malformed input, several elements and bad references as not-well-formed', () => {
  for (const frame of ['<a>', '<a></b>', '<a/><b/>', 'plain text', '<a x=1/>', '<a>AT&T</a>', '<a>&#0;</a>', '']) {
    assert.equal(refusal(frame), 'not-well-formed', frame);
  }
});

void test('refuses oversized and overly deep elements as policy-violation', () => {
  const small = new XmlTextCodec({ maxBytes: 100, maxDepth: 4 });
  assert.equal(refusal(`<a>${'x'.repeat(200)}</a>`, small), 'policy-violation');
  assert.equal(refusal('<a><a><a><a><a/></a></a></a></a>', small), 'policy-violation');
  assert.equal(refusal('<a><a><a><a/></a></a></a>', small), 'accepted');
  assert.equal(refusal(`<a>${'<b>'.repeat(50000)}</a>`), 'policy-violation');
});

void test('lenient reading sees what a sloppy client sent, without expanding entities', () => {
  assert.deepEqual(
    readElementsLeniently('<ack class="message" id="1"/><receipt id="1"/>')?.map((n) => n.tag),
    ['ack', 'receipt'],
  );
  assert.equal(
    readElementsLeniently('<?xml version="1.0"?><message id="x"><!-- c --><enc/></message>')?.[0]?.children[0]?.tag,
    'enc',
  );
  assert.equal(readElementsLeniently('<a>'), null);
});

// Counterexamples found by the properties in props-xml-codec.test.ts.
void test('refuses raw characters outside XML Char, lone surrogates included, as not-well-formed', () => {
  for (const frame of ['<a x="\u0000"/>', '<a>\u0001</a>', '<a>\uFFFE</a>', '<a>\uD800</a>'])
    assert.equal(refusal(frame), 'not-well-formed', JSON.stringify(frame));
});

void test('refuses a name the parser would rename or choke on, rather than change it or crash', () => {
  for (const frame of [
    '<__proto__/>',
    '<a><constructor/></a>',
    '<a __proto__="x"/>',
    '<a toString="1"/>',
    '<hasOwnProperty/>',
  ])
    assert.equal(refusal(frame), 'policy-violation', frame);
});

void test('a carriage return in text and whitespace in attributes survive the round trip; empty text is no text', () => {
  const n = node('a', { x: 'a\tb\nc\rd' }, [node('b', {}, 'line\r\nnext\r'), node('c', {}, '')]);
  assert.deepEqual(xmlCodec.decode(xmlCodec.encode(n)), n);
  assert.deepEqual(node('c', {}, ''), { tag: 'c', attrs: {}, children: [] });
});

void test('refuses too many attributes and too long a text before parsing, naming the cap when it is one', () => {
  const capped = new XmlTextCodec({
    maxBytes: 4096,
    maxDepth: 8,
    maxAttributes: 3,
    maxTextLength: 100,
    names: { maxAttributes: 'xml-attributes', maxTextLength: 'xml-text-bytes', maxDepth: 'xml-depth' },
  });
  const message = (frame: string): string => {
    try {
      capped.decode(frame);
      return 'accepted';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(message('<a w="1" x="2" y="3"><b>ok</b></a>'), 'accepted');
  assert.match(
    message('<a w="1" x="2" y="3" z="4"/>'),
    /^policy-violation: an element with 4 attributes exceeds 3 \(cap xml-attributes=3\)$/,
  );
  assert.match(message(`<a>${'x'.repeat(101)}</a>`), /\(cap xml-text-bytes=100\)$/);
  assert.match(message(`${'<a>'.repeat(100)}${'</a>'.repeat(100)}`), /deeper than 8 \(cap xml-depth=8\)$/);
  // The profile's own codec names no cap: its limits are the profile's.
  assert.doesNotMatch(refusalMessage(`<a>${'<b>'.repeat(50)}</a>`), /cap /);
});

function refusalMessage(frame: string): string {
  try {
    xmlCodec.decode(frame);
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
}

void test('the lenient reader gives a frame behind an XML declaration the same depth as one without', () => {
  const nested = (depth: number): string => `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`;
  assert.equal(readElementsLeniently(`<?xml version="1.0"?>${nested(PROFILE_LIMITS.maxDepth)}`)?.length, 1);
  assert.equal(readElementsLeniently(`<?xml version="1.0"?>${nested(PROFILE_LIMITS.maxDepth + 1)}`), null);
});
