/**
 * Values WhatsApp-lineage clients produce, at the boundaries of the profile's judgements: what a
 * lineage client sends must be met, and one step past the profile's limit must not.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { judgeRegistrationId } from '../src/checks/encryption/keys.js';

const lineageKeyhelper = createRequire(import.meta.url)('libsignal/src/keyhelper.js') as { generateRegistrationId(): number };

void test('KEYS-REGISTRATION: 0 and 16 383 are met, 16 384 and -1 are not', () => {
  for (const id of [0, 1, 255, 16_380, 16_383]) assert.equal(judgeRegistrationId(id).verdict, 'met', `registration id ${id}`);
  for (const id of [16_384, -1, 1.5]) assert.equal(judgeRegistrationId(id).verdict, 'not-met', `registration id ${id}`);
});

void test('KEYS-REGISTRATION: every registration id a lineage generator can give is met', () => {
  // libsignal-node and Baileys both take `Uint16Array.from(randomBytes(2))[0] & 16383`, which reads
  // one random byte: 0..255. Every 14-bit value is judged, so any draw of theirs is covered.
  for (let id = 0; id <= 0x3fff; id++) assert.equal(judgeRegistrationId(id).verdict, 'met', `registration id ${id}`);
  const drawn = lineageKeyhelper.generateRegistrationId();
  assert.ok(Number.isInteger(drawn) && drawn >= 0 && drawn <= 255, `libsignal-node drew ${drawn}`);
});
