/** The messages a provider's client sends, as the gatekeeper and its gatekeeper user saw them (§2, §4, §5). */
import type { Clock } from '../../core/clock.js';
import { met, notApplicable, notMet, type Finding } from '../../core/model.js';
import { fromBase64 } from '../../protocol/base64.js';
import { child, type StanzaNode } from '../../protocol/node.js';
import { decodeMessage, PADDING_BOUNDS, textPayload, unpad } from '../../protocol/payload.js';
import { isDeliveryReceipt, outgoingEnc } from '../../protocol/stanzas.js';
import type { GatekeeperDelivery } from '../../gatekeeper/types.js';
import { choiceParam, defineCheck, paramsOf, numberParam, type CheckContext } from '../check.js';
import { barrier, lastSeq, sentBy, show } from '../observe.js';
import { PreconditionError } from '../../core/errors.js';
import { judgeTime } from '../time.js';
import { judgeEncVersion, judgeMessageId, judgeMessageShape, judgePadding, signalKind } from '../message-shape.js';
import { pair, receiveOne, sendOne, type Outbound } from '../scenarios/conversation.js';
import { deliverAndWatch, describeAnswer, type Answer } from '../scenarios/exchange.js';

async function sendMany(ctx: CheckContext, count: number): Promise<Outbound[]> {
  const p = await pair(ctx);
  const out: Outbound[] = [];
  for (let i = 0; i < count; i++) out.push(await sendOne(p, ctx, `message ${i + 1}`));
  return out;
}

/** The `<enc>` wherever the client put it, so that each check judges only its own rule. */
const encOf = (o: Outbound) => outgoingEnc(o.sent.element) ?? child(o.sent.element, 'enc');

/**
 * MSG-ATTRS, on a text `<message>` as the client sent it: `type` is judged by its value, `text`, as
 * both lineage clients write it for a text; `t` is the client's to give or not (WhatsApp's clients
 * leave it out), and STANZA-TIME judges it.
 */
export function judgeMessageAttributes(m: StanzaNode): Finding {
  const expected = '<message> with id, to and type="text"';
  const missing = ['id', 'to', 'type'].filter((a) => !m.attrs[a]);
  if (missing.length > 0) return notMet(expected, `${show(m)} missing ${missing.join(', ')}`);
  const type = m.attrs['type'] ?? '';
  return type === 'text' ? met() : notMet(expected, `type="${type}" on a text message`);
}

/** MSG-ATTRS */
export const messageAttributes = defineCheck({ name: 'stanza/message/attributes' }, async (ctx) => {
  const [o] = await sendMany(ctx, 1);
  if (!o) return notApplicable('nothing sent');
  return judgeMessageAttributes(o.sent.element);
});

/** STANZA-ID, on the messages a client sent. */
export function judgeMessageIds(messages: readonly StanzaNode[]): Finding {
  return messages.map(judgeMessageId).find((f) => f.verdict === 'not-met') ?? met();
}

/** STANZA-ID */
export const messageIdFormat = defineCheck(
  { name: 'stanza/message/id-format', params: paramsOf({ messages: { type: 'integer', minimum: 1 } }) },
  async (ctx) => {
    const sent = await sendMany(ctx, numberParam(ctx, 'messages', 2));
    return judgeMessageIds(sent.map((o) => o.sent.element));
  },
);

/**
 * Where STANZA-ID-UNIQUE's messages go: all on one connection, half of them after a reconnect,
 * half of them at once, one to each of as many peers, or as reactions or replies to one message.
 */
const ID_SPANS = ['connection', 'reconnect', 'burst', 'reactions', 'replies'] as const;

/**
 * STANZA-ID-UNIQUE: `params.messages` ids, none reused. With `params.across` `reconnect`, the
 * client sends that many again on a new connection, where a counter that starts again would
 * repeat its first ids. With `burst`, the user sends one message to each of that many peers, then
 * another to each all at once: the client writes them side by side, within a millisecond or two,
 * where an id made from the clock alone would repeat. With `reactions`, the user sends a message,
 * then reacts to it that many times over, each time with another emoji: each reaction is a
 * message with an id of its own, not one made from the id of the message reacted to; with
 * `replies`, it replies to it that many times over, likewise.
 */
export const messageIdUnique = defineCheck(
  {
    name: 'stanza/message/id-unique',
    params: paramsOf({ messages: { type: 'integer', minimum: 2 }, across: { enum: [...ID_SPANS] } }),
  },
  async (ctx) => {
    const count = numberParam(ctx, 'messages', 3);
    const across = choiceParam(ctx, 'across', ID_SPANS, 'connection');
    const sent =
      across === 'burst'
        ? await sentInBurst(ctx, count)
        : across === 'reactions' || across === 'replies'
          ? await answersSent(ctx, count, across)
          : await sentInTurn(ctx, count, across);
    const ids = sent.map((m) => m.attrs['id']).filter((id): id is string => id !== undefined);
    if (ids.length < 2) return notApplicable('fewer than two messages carried an id');
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id))
        return notMet(`${ids.length} distinct message ids`, `id "${id}" reused among ${ids.join(', ')}`);
      seen.add(id);
    }
    return met();
  },
);

/** `count` messages one after the other, and as many again after a reconnect if `across` says so. */
async function sentInTurn(ctx: CheckContext, count: number, across: 'connection' | 'reconnect') {
  const p = await pair(ctx);
  const sent: Outbound[] = [];
  for (let i = 0; i < count; i++) sent.push(await sendOne(p, ctx, `message ${i + 1}`));
  if (across === 'reconnect') {
    await p.provider.reconnect();
    for (let i = 0; i < count; i++) sent.push(await sendOne(p, ctx, `message ${i + 1} after reconnecting`));
  }
  return sent.map((o) => o.sent.element);
}

/** Emoji for the reactions to one message, each unlike the one before it. */
const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

/** A message, then `count` reactions or replies to it one after the other; the `<message>` elements the client sent. */
async function answersSent(ctx: CheckContext, count: number, kind: 'reactions' | 'replies'): Promise<StanzaNode[]> {
  const p = await pair(ctx);
  const first = await sendOne(p, ctx, 'the message reacted to');
  const id = first.sent.element.attrs['id'];
  if (!id) throw new PreconditionError('the message had no id, so no reaction can name it');
  const afterSeq = lastSeq(p.provider.connection);
  for (let i = 0; i < count; i++) {
    if (kind === 'replies') {
      ctx.step(`the user replies to its message (reply ${i + 1})`);
      await p.provider.send(p.gatekeeperUser.jid, `reply ${i + 1} ${ctx.rng.string(8)}`, { replyTo: id });
      continue;
    }
    const emoji = REACTIONS[i % REACTIONS.length] ?? '👍';
    ctx.step(`the user reacts ${emoji} to its message (reaction ${i + 1})`);
    await p.provider.react(p.gatekeeperUser.jid, id, emoji);
  }
  await barrier(p.provider.connection, ctx.signal);
  const reactions = sentBy(p.provider.connection, afterSeq)
    .map((s) => s.element)
    .filter((e) => e.tag === 'message');
  return [first.sent.element, ...reactions];
}

/**
 * A message to each of `count` peers, one after the other so that every session is set up, then
 * another to each all at once; the `<message>` elements the client sent.
 */
async function sentInBurst(ctx: CheckContext, count: number): Promise<StanzaNode[]> {
  const provider = await ctx.testbed.providerUser();
  const peers = [];
  for (let i = 0; i < count; i++) peers.push(await ctx.testbed.gatekeeperUser());
  const first = [];
  for (const peer of peers) first.push(await sendOne({ provider, gatekeeperUser: peer }, ctx, 'first message'));
  const afterSeq = lastSeq(provider.connection);
  ctx.step(`the user sends ${count} peers a message each, at once`);
  const sends = await Promise.allSettled(peers.map((peer) => provider.send(peer.jid, `at once ${ctx.rng.string(8)}`)));
  const refused = sends.filter((s) => s.status === 'rejected').length;
  if (refused > 0) throw new PreconditionError(`the driver refused ${refused} of ${count} sends`);
  await barrier(provider.connection, ctx.signal);
  const burst = sentBy(provider.connection, afterSeq)
    .map((s) => s.element)
    .filter((e) => e.tag === 'message');
  return [...first.map((o) => o.sent.element), ...burst];
}

/** STANZA-TIME */
export const messageTimestamp = defineCheck({ name: 'stanza/message/timestamp' }, async (ctx) => {
  const [o] = await sendMany(ctx, 1);
  if (!o) return notApplicable('nothing sent');
  return judgeMessageTime(o.sent.element, ctx.clock);
});

/** STANZA-TIME, on a `<message>` as the client sent it. */
export function judgeMessageTime(m: StanzaNode, clock: Clock): Finding {
  const t = m.attrs['t'];
  // MSG-ATTRS leaves `t` to the client; the gatekeeper stamps its own on delivery.
  if (t === undefined) return notApplicable('the message carries no t, which the profile allows');
  return judgeTime(t, clock, 'the message');
}

/** MSG-SHAPE */
export const messageShape = defineCheck({ name: 'stanza/message/participants' }, async (ctx) => {
  const [o] = await sendMany(ctx, 1);
  if (!o) return notApplicable('nothing sent');
  return judgeMessageShape(o.sent.element);
});

/** ENC-VERSION */
export const encVersion = defineCheck({ name: 'stanza/enc/version' }, async (ctx) => {
  const [o] = await sendMany(ctx, 1);
  const enc = o && encOf(o);
  if (!enc) return notApplicable('no <enc> to judge');
  return judgeEncVersion(enc);
});

/** ENC-TYPE: the first message of a session is a prekey message; after a reply, plain ones. */
export const encType = defineCheck({ name: 'stanza/enc/type' }, async (ctx) => {
  const p = await pair(ctx);
  const first = await sendOne(p, ctx, 'first message');
  const { id } = await receiveOne(p, ctx, 'reply');
  ctx.step('wait for the provider to take the reply');
  await ctx.testbed.frameFrom(
    p.provider.connection,
    (f) =>
      f.direction === 'client-to-gatekeeper' &&
      // Acked, or receipted, which ACK-MESSAGE lets stand for the ack of a message decrypted.
      sentBy(p.provider.connection).some(
        (s) => (s.element.tag === 'ack' || isDeliveryReceipt(s.element)) && s.element.attrs['id'] === id,
      ),
  );
  const second = await sendOne(p, ctx, 'second message');
  return judgeEncTypes([
    { label: 'first message', enc: encOf(first), ciphertext: first.delivery.ciphertext },
    { label: 'second message', enc: encOf(second), ciphertext: second.delivery.ciphertext },
  ]);
});

/** ENC-TYPE, on `<enc>`s with the ciphertext each carried: the type says what libsignal parses. */
export function judgeEncTypes(
  encs: readonly { label: string; enc: StanzaNode | undefined; ciphertext: Uint8Array | undefined }[],
): Finding {
  for (const { label, enc, ciphertext: bytes } of encs) {
    if (!enc || !bytes) return notApplicable('no <enc> ciphertext to judge');
    const actual = signalKind(bytes);
    if (actual === undefined)
      return notMet(
        'a Signal PreKeySignalMessage or SignalMessage in <enc>',
        `${bytes.length} bytes libsignal cannot parse`,
      );
    if (enc.attrs['type'] !== actual) {
      return notMet(
        `type="${actual}" for a ${actual === 'pkmsg' ? 'PreKeySignalMessage' : 'SignalMessage'}`,
        `type="${enc.attrs['type'] ?? ''}" on the ${label}`,
      );
    }
  }
  return met(encs.map((e) => e.enc?.attrs['type']).join(' then '));
}

/**
 * ENC-ENCODING, over several messages: one ciphertext's base64 may hold no `+`, `/` or `=`, and
 * then reads the same in base64url; six in a row all doing so is beyond chance.
 */
export const encEncoding = defineCheck(
  { name: 'stanza/enc/encoding', params: paramsOf({ messages: { type: 'integer', minimum: 1 } }) },
  async (ctx) => {
    const sent = await sendMany(ctx, numberParam(ctx, 'messages', 6));
    if (sent.length === 0) return notApplicable('nothing sent');
    return judgeEncEncoding(sent.map(encOf));
  },
);

/** ENC-ENCODING, on the `<enc>` of each message a client sent in a row (classic mode). */
export function judgeEncEncoding(encs: readonly (StanzaNode | undefined)[]): Finding {
  for (const [n, enc] of encs.entries()) {
    if (!enc) return notApplicable('no <enc> to judge');
    const text = enc.text ?? '';
    const bytes = fromBase64(text);
    if (!bytes) {
      const hint = /[-_]/.test(text)
        ? ' (base64url alphabet)'
        : !text.endsWith('=') && text.length % 4 !== 0
          ? ' (padding missing)'
          : '';
      return notMet(
        'canonical padded base64 (RFC 4648 §4) in <enc>',
        `message ${n + 1}: ${text.length} characters that are not${hint}: ${text.slice(0, 24)}…`,
      );
    }
    const kind = signalKind(bytes);
    // Byte 0 of both message kinds is (message version << 4) | current version.
    const version = kind === undefined ? undefined : (bytes[0] ?? 0) >> 4;
    if (version !== 3) {
      return notMet(
        'a Signal message of version 3 (classic mode)',
        version === undefined
          ? `message ${n + 1}: bytes libsignal cannot parse`
          : `message ${n + 1}: message version ${version}`,
      );
    }
  }
  return met(`${encs.length} messages`);
}

/**
 * PAYLOAD-PADDING, both ways: the client's own messages are padded; then it reads a text padded
 * with each bound, 1 and 15, which the seeded draws of every other case leave out.
 */
export const payloadPadding = defineCheck(
  { name: 'stanza/payload/padding', params: paramsOf({ messages: { type: 'integer', minimum: 1 } }) },
  async (ctx) => {
    const p = await pair(ctx);
    const sent: Outbound[] = [];
    for (let i = 0; i < numberParam(ctx, 'messages', 2); i++) sent.push(await sendOne(p, ctx, `message ${i + 1}`));
    const out = judgePadding(sent.map((o) => o.delivery));
    if (out.verdict !== 'met') return out;
    const received: PaddedText[] = [];
    for (const padding of PADDING_BOUNDS) {
      const text = `padded with ${padding} ${ctx.rng.string(8)}`;
      const encrypted = await p.gatekeeperUser.encrypt(p.provider.login, textPayload(text, padding));
      const { id, answer } = await deliverAndWatch(ctx, p, encrypted, `a text padded with ${padding} bytes`);
      const shown = (await p.provider.inbox()).find((m) => m.id === id)?.text;
      received.push({ padding, text, answer, shown });
    }
    return judgePaddingIn(received);
  },
);

/** A text the gatekeeper user sent padded with `padding` bytes: the client's answer, and what its user was shown. */
export interface PaddedText {
  readonly padding: number;
  readonly text: string;
  readonly answer: Answer;
  readonly shown: string | undefined;
}

/**
 * PAYLOAD-PADDING, the reading side: each text, whatever its padding in 1..15, is shown as sent.
 * What the client answered is reported, not judged: RECEIPT-DELIVERY judges that.
 */
export function judgePaddingIn(received: readonly PaddedText[]): Finding {
  const expected = `each text padded with ${received.map((r) => r.padding).join(' and with ')} bytes shown as sent`;
  for (const r of received) {
    if (r.shown === r.text) continue;
    const shown = r.shown === undefined ? 'not shown' : `shown as ${JSON.stringify(r.shown)}`;
    return notMet(
      expected,
      `the text padded with ${r.padding} bytes ${shown}; the client answered it with ${describeAnswer(r.answer)}`,
    );
  }
  return met();
}

/** PAYLOAD-PROTOBUF */
export const payloadProtobuf = defineCheck({ name: 'stanza/payload/protobuf' }, async (ctx) => {
  const [o] = await sendMany(ctx, 1);
  if (!o) return notApplicable('the gatekeeper user could not decrypt: nothing sent');
  return judgePayloadText(o.delivery, o.text);
});

/** PAYLOAD-PROTOBUF, on what the gatekeeper user decrypted of a message the client sent with `text`. */
export function judgePayloadText(
  delivery: Pick<GatekeeperDelivery, 'plaintext' | 'decryptError'>,
  text: string,
): Finding {
  const plain = delivery.plaintext;
  if (!plain) return notApplicable(`the gatekeeper user could not decrypt: ${delivery.decryptError ?? 'nothing sent'}`);
  const r = unpad(plain);
  const bytes = r.ok ? r.bytes : plain;
  const expected = `a Message protobuf with "${text}" in conversation (1) or extendedTextMessage.text (6.1)`;
  let message;
  try {
    message = decodeMessage(bytes);
  } catch (e) {
    return notMet(expected, `bytes that are not a Message protobuf: ${(e as Error).message}`);
  }
  const shown = message.conversation || message.extendedTextMessage?.text;
  if (shown === text) return met();
  if (shown) return notMet(expected, `text "${shown}"`);
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
export const restrictedXml = defineCheck({ name: 'stanza/xml/restricted-outbound' }, async (ctx) => {
  const p = await pair(ctx);
  await sendOne(p, ctx);
  await receiveOne(p, ctx);
  await ctx.testbed.frameFrom(
    p.provider.connection,
    (f) =>
      f.direction === 'client-to-gatekeeper' && sentBy(p.provider.connection).some((s) => s.element.tag === 'receipt'),
  );
  const refused = p.provider.connection.frames.find(
    (f) => f.direction === 'client-to-gatekeeper' && f.refused?.condition === 'restricted-xml',
  );
  return refused?.refused
    ? notMet(
        'restricted XML (RFC 6120 §11.1): no declaration, PI, comment, DTD or entity',
        `${refused.refused.message} in ${refused.text.slice(0, 100)}`,
      )
    : met();
});
