/** How a verdict says a text changed (difference): where, and how when it is a known way. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { difference } from '../src/checks/text-difference.js';

void test('a known change is named: trimmed, a leading U+FEFF or the ending line breaks dropped, escaped for HTML, normalised', () => {
  assert.match(difference(' a b \n', 'a b'), /^the text trimmed of its leading and trailing whitespace: /);
  assert.match(difference('\uFEFF a', ' a'), /^the text without its leading U\+FEFF: /);
  assert.match(difference(' ab\r\n', ' ab'), /^the text without the line breaks that end it: /);
  assert.match(
    difference('a < b & "c" &amp;', 'a &lt; b &amp; &quot;c&quot; &amp;amp;'),
    /^the text escaped for HTML: /,
  );
  assert.match(difference('e\u0301', '\u00e9'), /^the text in Unicode normalization form NFC: /);
});

void test('any other change says where the texts part and what stands there, invisible characters spelled out', () => {
  assert.equal(
    difference('ab\u200Fc', 'abc'),
    '3 characters, not 4; differs at character 2: "c" instead of "\\u{200f}c"',
  );
  // An entity the text held already, read back once, is no HTML escape of it.
  assert.doesNotMatch(difference('a &amp; b', 'a & b'), /escaped for HTML/);
});
