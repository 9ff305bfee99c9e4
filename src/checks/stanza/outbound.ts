/** The messages a provider's client sends, as the gatekeeper and its reference user saw them (§2, §4, §5). */
import { met, notApplicable, notMet, type Finding } from '../../core/model.js';
import { fromBase64 } from '../../protocol/base64.js';
import { ENC_VERSION, STANZA_ID } from '../../protocol/constants.js';
import { child, children } from '../../protocol/node.js';
import { decodeMessage, unpad } from '../../protocol/payload.js';
import { Signal } from '../../protocol/signal-store.js';
import { outgoingEnc } from '../../protocol/stanzas.js';
import { numberParam, type CheckContext } from '../check.js';
import { sentBy, show } from '../observe.js';
import { judgeTime } from '../time.js';
import { pair, receiveOne, sendOne, type Outbound } from './scenario.js';

async function sendMany(ctx: CheckContext, count: number): Promise<Outbound[]> {
  const p = await pair(ctx);
  const out: Outbound[] = [];
  for (let i = 0; i < count; i++) out.push(await sendOne(p, ctx, `message ${i + 1}`));
  return out;
}

/** The `<enc>` wherever the client put it, so that each check judges only its own rule. */
const encOf = (o: Outbound) => outgoingEnc(o.sent.element) ?? child(o.sent.element, 'enc');

/** MSG-ATTRS: `t` is the client's to give or not (WhatsApp's clients leave it out); STANZA-TIME judges it. */
export async function messageAttributes(ctx: CheckContext): Promise<Finding> {
  const [o] = await sendMany(ctx, 1);
  if (!o) return notApplicable('nothing sent');
  const missing = ['id', 'to', 'type'].filter((a) => !o.sent.element.attrs[a]);
  return missing.length === 0 ? met() : notMet('<message> with id, to and type', `${show(o.sent.element)} missing ${missing.join(', ')}`);
}

/** STANZA-ID */
export async function messageIdFormat(ctx: CheckContext): Promise<Finding> {
  const sent = await sendMany(ctx, numberParam(ctx, 'messages', 2));
  for (const o of sent) {
    const id = o.sent.element.attrs['id'];
    if (id === undefined) return notMet('an id of 8 to 64 characters of [A-Za-z0-9_-]', `${show(o.sent.element)} has no id`);
    if (!STANZA_ID.test(id)) return notMet('an id of 8 to 64 characters of [A-Za-z0-9_-]', `id="${id}"`);
  }
  return met();
}

/** STANZA-ID-UNIQUE */
export async function messageIdUnique(ctx: CheckContext): Promise<Finding> {
  const sent = await sendMany(ctx, numberParam(ctx, 'messages', 3));
  const ids = sent.map((o) => o.sent.element.attrs['id']).filter((id): id is string => id !== undefined);
  if (ids.length < 2) return notApplicable('fewer than two messages carried an id');
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return notMet(`${ids.length} distinct message ids`, `id "${id}" reused among ${ids.join(', ')}`);
    seen.add(id);
  }
  return met();
}

/** STANZA-TIME */
export async function messageTimestamp(ctx: CheckContext): Promise<Finding> {
  const [o] = await sendMany(ctx, 1);
  if (!o) return notApplicable('nothing sent');
  const t = o.sent.element.attrs['t'];
  // MSG-ATTRS leaves `t` to the client; the gatekeeper stamps its own on delivery.
  if (t === undefined) return notApplicable('the message carries no t, which the profile allows');
  return judgeTime(t, ctx.clock, 'the message');
}

/** MSG-SHAPE */
export async function messageShape(ctx: CheckContext): Promise<Finding> {
  const [o] = await sendMany(ctx, 1);
  if (!o) return notApplicable('nothing sent');
  const m = o.sent.element;
  const expected = '<message> → one <participants> → one <to jid={to}> → one <enc>';
  const participants = children(m, 'participants');
  if (participants.length !== 1 || !participants[0]) {
    return notMet(expected, `${participants.length} <participants> in ${show(m)}, children: ${m.children.map((c) => `<${c.tag}>`).join(', ') || 'none'}`);
  }
  const tos = children(participants[0], 'to');
  if (tos.length !== 1 || !tos[0]) return notMet(expected, `${tos.length} <to> under <participants>`);
  if (tos[0].attrs['jid'] !== m.attrs['to']) return notMet(expected, `<to jid="${tos[0].attrs['jid'] ?? ''}"> for a message to ${m.attrs['to'] ?? '(none)'}`);
  const encs = children(tos[0], 'enc');
  return encs.length === 1 ? met() : notMet(expected, `${encs.length} <enc> under <to>`);
}

/** ENC-VERSION */
export async function encVersion(ctx: CheckContext): Promise<Finding> {
  const [o] = await sendMany(ctx, 1);
  const enc = o && encOf(o);
  if (!enc) return notApplicable('no <enc> to judge');
  const v = enc.attrs['v'];
  return v === ENC_VERSION ? met() : notMet(`<enc v="${ENC_VERSION}">`, v === undefined ? '<enc> without v' : `<enc v="${v}">`);
}

/** What the ciphertext really is, by libsignal's own parsers. */
function signalKind(bytes: Uint8Array): 'pkmsg' | 'msg' | undefined {
  try {
    Signal.PreKeySignalMessage.deserialize(Buffer.from(bytes));
    return 'pkmsg';
  } catch {
    /* not a prekey message */
  }
  try {
    Signal.SignalMessage.deserialize(Buffer.from(bytes));
    return 'msg';
  } catch {
    return undefined;
  }
}

/** ENC-TYPE: the first message of a session is a prekey message; after a reply, plain ones. */
export async function encType(ctx: CheckContext): Promise<Finding> {
  const p = await pair(ctx);
  const first = await sendOne(p, ctx, 'first message');
  const { id } = await receiveOne(p, ctx, 'reply');
  ctx.step('wait for the provider to take the reply');
  await ctx.lab.frameFrom(p.provider.connection, (f) => f.direction === 'client-to-gatekeeper' && sentBy(p.provider.connection).some((s) => s.element.tag === 'ack' && s.element.attrs['id'] === id));
  const second = await sendOne(p, ctx, 'second message');
  for (const o of [first, second]) {
    const enc = encOf(o);
    const bytes = o.delivery.ciphertext;
    if (!enc || !bytes) return notApplicable('no <enc> ciphertext to judge');
    const actual = signalKind(bytes);
    if (actual === undefined) return notMet('a Signal PreKeySignalMessage or SignalMessage in <enc>', `${bytes.length} bytes libsignal cannot parse`);
    if (enc.attrs['type'] !== actual) {
      return notMet(`type="${actual}" for a ${actual === 'pkmsg' ? 'PreKeySignalMessage' : 'SignalMessage'}`, `type="${enc.attrs['type'] ?? ''}" on the ${o === first ? 'first' : 'second'} message`);
    }
  }
  return met('pkmsg then msg');
}

/**
 * ENC-ENCODING, over several messages: one ciphertext's base64 may hold no `+`, `/` or `=`, and
 * then reads the same in base64url; six in a row all doing so is beyond chance.
 */
export async function encEncoding(ctx: CheckContext): Promise<Finding> {
  const sent = await sendMany(ctx, numberParam(ctx, 'messages', 6));
  if (sent.length === 0) return notApplicable('nothing sent');
  for (const [n, o] of sent.entries()) {
    const enc = encOf(o);
    if (!enc) return notApplicable('no <enc> to judge');
    const text = enc.text ?? '';
    const bytes = fromBase64(text);
    if (!bytes) {
      const hint = /[-_]/.test(text) ? ' (base64url alphabet)' : !text.endsWith('=') && text.length % 4 !== 0 ? ' (padding missing)' : '';
      return notMet('canonical padded base64 (RFC 4648 §4) in <enc>', `message ${n + 1}: ${text.length} characters that are not${hint}: ${text.slice(0, 24)}…`);
    }
    const kind = signalKind(bytes);
    // Byte 0 of both message kinds is (message version << 4) | current version.
    const version = kind === undefined ? undefined : (bytes[0] ?? 0) >> 4;
    if (version !== 3) {
      return notMet('a Signal message of version 3 (classic mode)', version === undefined ? `message ${n + 1}: bytes libsignal cannot parse` : `message ${n + 1}: message version ${version}`);
    }
  }
  return met(`${sent.length} messages`);
}

/** PAYLOAD-PADDING */
export async function payloadPadding(ctx: CheckContext): Promise<Finding> {
  const sent = await sendMany(ctx, numberParam(ctx, 'messages', 2));
  for (const o of sent) {
    const plain = o.delivery.plaintext;
    if (!plain) return notApplicable(`the reference user could not decrypt: ${o.delivery.decryptError ?? 'no ciphertext'}`);
    const r = unpad(plain);
    if (!r.ok) return notMet('plaintext ending in n bytes of value n, 1 ≤ n ≤ 15', r.reason);
  }
  return met();
}

/** PAYLOAD-PROTOBUF */
export async function payloadProtobuf(ctx: CheckContext): Promise<Finding> {
  const [o] = await sendMany(ctx, 1);
  const plain = o?.delivery.plaintext;
  if (!o || !plain) return notApplicable(`the reference user could not decrypt: ${o?.delivery.decryptError ?? 'nothing sent'}`);
  const r = unpad(plain);
  const bytes = r.ok ? r.bytes : plain;
  const expected = `a Message protobuf with "${o.text}" in conversation (1) or extendedTextMessage.text (6.1)`;
  let message;
  try {
    message = decodeMessage(bytes);
  } catch (e) {
    return notMet(expected, `bytes that are not a Message protobuf: ${(e as Error).message}`);
  }
  const text = message.conversation || message.extendedTextMessage?.text;
  if (text === o.text) return met();
  if (text) return notMet(expected, `text "${text}"`);
  const fields = unknownFields(bytes);
  return notMet(expected, `a Message with no text${fields.length ? `; unknown field ${fields.join(', ')}` : ''}`);
}

/** Field numbers at the top level of a protobuf that `Message` does not define. */
function unknownFields(bytes: Uint8Array): number[] {
  const known = new Set([1, 6, 46]);
  const out: number[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; i < bytes.length && shift < 35; shift += 7) {
      const b = bytes[i++] ?? 0;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    return v;
  };
  while (i < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (!known.has(field)) out.push(field);
    if (wire === 0) varint();
    else if (wire === 2) i += varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return out;
}

/** XML-RESTRICTED-OUT: over a send and a receive, nothing the client sends is refused as restricted XML. */
export async function restrictedXml(ctx: CheckContext): Promise<Finding> {
  const p = await pair(ctx);
  await sendOne(p, ctx);
  await receiveOne(p, ctx);
  await ctx.lab.frameFrom(p.provider.connection, (f) => f.direction === 'client-to-gatekeeper' && sentBy(p.provider.connection).some((s) => s.element.tag === 'receipt'));
  const refused = p.provider.connection.frames.find((f) => f.direction === 'client-to-gatekeeper' && f.refused?.condition === 'restricted-xml');
  return refused?.refused
    ? notMet('restricted XML (RFC 6120 §11.1): no declaration, PI, comment, DTD or entity', `${refused.refused.message} in ${refused.text.slice(0, 100)}`)
    : met();
}
