/**
 * IDENTITY-CHANGE's judgement (checks/encryption/identity.ts): a client that takes the message
 * under a peer's new identity key and one that holds it both pass; every other answer fails with
 * its reason, and so does a missing event, never without a verdict.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeIdentityChange } from '../src/checks/encryption/identity.js';
import type { SecurityEvent } from '../src/protocol/driver-api.js';

const PEER = '41265890317@s.whatsapp.net';
const told: SecurityEvent[] = [{ type: 'identity-change', peer: PEER }];

void test('taking the message and holding it both pass', () => {
  assert.equal(judgeIdentityChange(PEER, 'delivery', true, told).verdict, 'met');
  assert.equal(judgeIdentityChange(PEER, 'ack only', false, told).verdict, 'met');
});

void test('every other answer fails, saying why', () => {
  const actual = (...args: Parameters<typeof judgeIdentityChange>): string => {
    const finding = judgeIdentityChange(...args);
    assert.equal(finding.verdict, 'not-met');
    return finding.verdict === 'not-met' ? finding.actual : '';
  };
  assert.match(actual(PEER, 'retry', false, told), /^a retry receipt, which says the message could not be decrypted/);
  assert.match(actual(PEER, 'delivery', false, told), /^a delivery receipt, but the message not shown/);
  assert.match(actual(PEER, 'ack only', true, told), /^the message shown, but only an ack/);
  assert.match(actual(PEER, 'nothing', false, told), /^no ack and no receipt within \d+ ms: .*ACK-MESSAGE/);
});

void test('no event for the peer fails whatever the answer, with a wrong answer beside it', () => {
  const other: SecurityEvent[] = [{ type: 'identity-change', peer: '1@s.whatsapp.net' }];
  const held = judgeIdentityChange(PEER, 'ack only', false, other);
  assert.deepEqual(
    held.verdict === 'not-met' && held.actual,
    'no identity-change event; events: identity-change 1@s.whatsapp.net',
  );
  const retried = judgeIdentityChange(PEER, 'retry', false, []);
  assert.match(
    retried.verdict === 'not-met' ? retried.actual : '',
    /^no identity-change event; events: none; and a retry receipt/,
  );
});
