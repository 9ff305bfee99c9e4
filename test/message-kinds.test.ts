/**
 * What the reference provider's client shows for each kind of `Message` it decrypts
 * (docs/PROFILE.md §14.9): a revoke is read only from a type that was really REVOKE, and a kind it
 * does not know never becomes a text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interop } from '../src/gen/message.js';
import { lengthDelimited } from '../src/protocol/media/message.js';
import { revokeContent, revokedId } from '../src/protocol/messaging.js';
import { decodeMessage, encodeMessage } from '../src/protocol/payload.js';
import { shownMessage } from '../src/reference-provider/client-messaging.js';
import type { FaultName } from '../src/reference-provider/faults.js';

const PEER = '41265890317@s.whatsapp.net';
const ME = '4915112345678@interop';
const wire = (content: interop.Message.$Properties): interop.Message => decodeMessage(encodeMessage(content));
/** A protocolMessage naming message `id` with `type` 14, WAProto's MESSAGE_EDIT, which this profile's enum lacks. */
const edit = (id: string): interop.Message =>
  wire({ protocolMessage: { key: { remoteJid: ME, fromMe: true, id }, type: 14 as interop.ProtocolMessage.Type } });
const shown = (m: interop.Message, faults: FaultName[] = []) => shownMessage('msg00002', PEER, m, new Set(faults));

void test('a revoke names the message it takes back, at the WAProto field numbers', () => {
  const bytes = encodeMessage(revokeContent(ME, 'msg00001'));
  // Message.protocolMessage = 12 (length-delimited), ProtocolMessage.key = 1, type = 2 (REVOKE = 0).
  assert.equal(bytes[0], (12 << 3) | 2);
  assert.equal(revokedId(decodeMessage(bytes)), 'msg00001');
  assert.deepEqual(shown(decodeMessage(bytes)), { revokes: 'msg00001' });
});

void test('a protocolMessage whose type is absent, or one the enum lacks, is no revoke, though proto2 reads it as REVOKE', () => {
  const untyped = wire({ protocolMessage: { key: { remoteJid: ME, fromMe: true, id: 'msg00001' } } });
  assert.equal(untyped.protocolMessage?.type, interop.ProtocolMessage.Type.REVOKE);
  assert.equal(revokedId(untyped), undefined);
  assert.equal(edit('msg00001').protocolMessage?.type, interop.ProtocolMessage.Type.REVOKE);
  assert.equal(revokedId(edit('msg00001')), undefined);
  assert.deepEqual(shown(edit('msg00001')), {});
  assert.deepEqual(shown(edit('msg00001'), ['unknown-protocol-as-revoke']), { revokes: 'msg00001' });
});

void test('a kind the client does not know is a notice in its place, never a text', () => {
  // Field 5 is WAProto's locationMessage, which this profile does not define.
  const location = decodeMessage(lengthDelimited(5, Uint8Array.of(0x09, 0, 0, 0, 0, 0, 0, 0x4a, 0x40)));
  assert.deepEqual(shown(location), { message: { id: 'msg00002', from: PEER, text: '', notice: 'unsupported' } });
  assert.deepEqual(shown(location, ['show-unknown-as-empty-text']), {
    message: { id: 'msg00002', from: PEER, text: '' },
  });
  assert.deepEqual(shown(wire({ conversation: '' })), { message: { id: 'msg00002', from: PEER, text: '' } });
});
