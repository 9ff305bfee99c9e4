/**
 * The message kinds of docs/PROFILE.md ENC-MEDIATYPE and §14.9 against Baileys 6.17.16, the
 * WhatsApp-lineage client: its mediatype for each media kind, its protobuf for a revoke, and how it
 * reads the kinds the harness sends as unknown.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { UNKNOWN_KINDS } from '../src/checks/messaging/kinds.js';
import { ENC_MEDIATYPE, mediaKind } from '../src/protocol/media/enc-mediatype.js';
import { revokeContent, revokedId } from '../src/protocol/messaging.js';
import { decodeMessage, encodeMessage } from '../src/protocol/payload.js';

const require = createRequire(import.meta.url);

interface WAMessage {
  readonly protocolMessage?: { readonly type?: number; readonly key?: { readonly id?: string } };
  readonly locationMessage?: { readonly name?: string };
}
interface WAProto {
  proto: {
    Message: {
      encode(m: object): { finish(): Uint8Array };
      decode(b: Uint8Array): WAMessage;
      ProtocolMessage: { Type: Record<string, number> };
    };
  };
}
const { proto } = require('baileys/WAProto/index.js') as WAProto;

/**
 * Baileys' own getMediaType, read from its socket code and run alone: it is a closure inside
 * makeMessagesSocket, and uses nothing but its argument.
 */
function lineageGetMediaType(): (message: object) => string | undefined {
  const source = readFileSync(require.resolve('baileys/lib/Socket/messages-send.js'), 'utf8');
  const start = source.indexOf('const getMediaType = (message) => {');
  const end = source.indexOf('\n    };', start);
  assert.ok(start >= 0 && end > start, 'getMediaType is where Baileys 6.17.16 keeps it');
  const body = source.slice(source.indexOf('{', start), end + '\n    }'.length);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- Baileys' own code, cut from its installed source, is the oracle
  return new Function('message', body) as (message: object) => string | undefined;
}

void test('ENC-MEDIATYPE: the value for each kind is the one Baileys puts on <enc>', () => {
  const getMediaType = lineageGetMediaType();
  const cases: [object, string][] = [
    [{ imageMessage: {} }, ENC_MEDIATYPE[mediaKind('image')]],
    [{ videoMessage: {} }, ENC_MEDIATYPE[mediaKind('video')]],
    [{ videoMessage: { gifPlayback: true } }, ENC_MEDIATYPE[mediaKind('video', { gifPlayback: true })]],
    [{ audioMessage: { ptt: true } }, ENC_MEDIATYPE[mediaKind('audio', { ptt: true })]],
    [{ audioMessage: {} }, ENC_MEDIATYPE[mediaKind('audio')]],
    [{ documentMessage: {} }, ENC_MEDIATYPE[mediaKind('document')]],
  ];
  for (const [message, value] of cases) assert.equal(getMediaType(message), value, JSON.stringify(message));
  // A text is no media: no mediatype.
  assert.equal(getMediaType({ conversation: 'hi' }), undefined);
});

void test("a revoke is byte for byte what WAProto writes for one, and each reads the other's", () => {
  const key = { remoteJid: '4915112345678@interop', fromMe: true, id: '3EB0A1B2C3D4E5F6' };
  const ours = encodeMessage(revokeContent(key.remoteJid, key.id));
  const theirs = proto.Message.encode({
    protocolMessage: { key, type: proto.Message.ProtocolMessage.Type['REVOKE'] },
  }).finish();
  assert.deepEqual(Buffer.from(ours), Buffer.from(theirs));
  assert.equal(revokedId(decodeMessage(theirs)), key.id);
  assert.equal(proto.Message.decode(ours).protocolMessage?.type, proto.Message.ProtocolMessage.Type['REVOKE']);
});

void test("the kinds the cases send as unknown are WhatsApp's location and edit, and no revoke to the profile", () => {
  const chat = '4915112345678@interop';
  const edit = proto.Message.decode(UNKNOWN_KINDS.edit.content(chat, '3EB0A1B2C3D4E5F6'));
  assert.equal(edit.protocolMessage?.type, proto.Message.ProtocolMessage.Type['MESSAGE_EDIT']);
  assert.equal(edit.protocolMessage?.key?.id, '3EB0A1B2C3D4E5F6');
  assert.equal(revokedId(decodeMessage(UNKNOWN_KINDS.edit.content(chat, '3EB0A1B2C3D4E5F6'))), undefined);
  assert.equal(proto.Message.decode(UNKNOWN_KINDS.location.content()).locationMessage?.name, 'Brandenburger Tor');
});
