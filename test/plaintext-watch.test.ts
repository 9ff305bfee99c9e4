/** The Testbed's watch over the texts a case has the provider's client send (E2E-CONFIDENTIAL). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodingsOf, PlaintextWatch } from '../src/checks/plaintext.js';

void test('a watched text is found as UTF-8, hex and base64 at each alignment, and only a watched one', () => {
  const watch = new PlaintextWatch();
  const text = 'meet me at the café at nine';
  watch.keep(text);
  assert.equal(watch.find(`<message preview="${text}"/>`)?.as, 'UTF-8');
  for (const encoding of encodingsOf(text)) assert.equal(watch.find(`<enc>xx${encoding}yy</enc>`)?.text, text);
  const inProtobuf = Buffer.concat([Buffer.from([0x0a, text.length]), Buffer.from(text)]);
  assert.ok(watch.find(`<enc>${inProtobuf.toString('base64')}</enc>`), 'a text inside a protobuf, in base64');
  assert.equal(watch.find('<enc>bWVldCBtZSBhdCB0aGU=</enc>'), undefined, 'a prefix of the text is no leak');
});

void test('texts too short or too plain to be told from chance are not watched', () => {
  const watch = new PlaintextWatch();
  for (const text of ['hi there', 'aaaaaaaaaaaaaaaaaaaa', '0101010101010101']) watch.keep(text);
  assert.equal(watch.find('hi there aaaaaaaaaaaaaaaaaaaa 0101010101010101'), undefined);
});
