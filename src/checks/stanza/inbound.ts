/**
 * The provider's client under hostile input (docs/PROFILE.md §3): each input must get its own
 * error condition, and the connection must survive it.
 */
import { met, notMet } from '../../core/model.js';
import type { ClientConnection, FrameEvent } from '../../gatekeeper/types.js';
import { node, type StanzaNode } from '../../protocol/node.js';
import { toBase64 } from '../../protocol/base64.js';
import type { InboundCondition } from '../../protocol/constants.js';
import { PROFILE_LIMITS } from '../../protocol/codec.js';
import { binaryCodec, BinaryNodeCodec } from '../../protocol/binary/node-codec.js';
import { xmlCodec } from '../../protocol/xml-codec.js';
import { packPlaintext } from '../../protocol/binary/plaintext.js';
import { InternalError, SuiteError } from '../../core/errors.js';
import { ANSWER_MS, choiceParam, defineCheck, paramsOf, type CheckContext } from '../check.js';
import { describeAll, lastSeq, noneBefore, sends, sentBy, show } from '../observe.js';
import { pair, receiveOne } from '../scenarios/conversation.js';
import { unixSeconds } from '../../core/clock.js';

interface Input {
  readonly condition: InboundCondition;
  /**
   * The element's tag, when it is readable enough that the answer must name it: `class` (the tag, as
   * both lineage clients write an ack's class) and `id`. Absent for an element that cannot be read.
   */
  readonly names?: string;
  /**
   * The input as XML text, for xml-ws: what no node can say (markup, text a node would escape).
   * Absent, the input goes as its `node`, which each wire encodes its own way.
   */
  readonly make?: (id: string, from: string, t: number, filler: () => string) => string;
  /** A Noise frame's plaintext that no node can say (a broken token stream): the binary wire's own inputs. */
  readonly plaintext?: (id: string, from: string, t: number, filler: () => string) => Uint8Array;
  /**
   * The same input as a node, for a wire that encodes nodes itself (noise-binary); absent when only
   * XML text can say it (restricted XML, mixed content), which makes the case xml-ws's alone.
   */
  readonly node?: (id: string, from: string, t: number, filler: () => string) => StanzaNode;
  /**
   * For an input one step past a limit (STANZA-SIZE, XML-DEPTH): the same element exactly at the
   * limit, sent first, which the client must answer as the element it is. So a limit one step too
   * lax fails on the input, and one a step too strict on this.
   */
  readonly atLimit?: Input;
  /**
   * For an input whose element a client could refuse for another reason than the one it has wrong
   * (a group message from a group it does not know): the same element with nothing wrong, sent
   * first, which the client must not refuse with the input's condition. So a client that refuses
   * every such element, without reading what the input gets wrong, fails on this.
   */
  readonly control?: (id: string, from: string, t: number, filler: () => string) => StanzaNode;
}

const encNode = (body: string): StanzaNode => node('enc', { v: '2', type: 'msg' }, body);
const messageNode = (id: string, from: string, t: number, inner: StanzaNode): StanzaNode =>
  node('message', { id, from, type: 'text', t: String(t) }, [inner]);

/** Who the hostile inputs claim to come from: no user of the gatekeeper's. */
const HOSTILE_PEER = 'conformance.peer@s.whatsapp.net';

/**
 * What a client that reads a hostile input answers it with (a receipt, say) goes to its made-up
 * sender, or to none where the input has none, which the gatekeeper refuses: the case provokes
 * that refusal, not the provider. Only answers naming the inputs' `ids` are the case's.
 */
function expectAnswersToHostileInputs(ctx: CheckContext, ids: readonly string[]): void {
  ctx.testbed.expectRefusal(
    `an answer to a hostile input, which came from ${HOSTILE_PEER} (no user of the gatekeeper's) or from no one`,
    (r) => ids.includes(r.element?.attrs['id'] ?? ''),
  );
}

/** Sends `input` over the connection's wire: XML text over xml-ws, a node where the wire encodes it. */
function sendInput(conn: ClientConnection, input: Input, id: string, t: number, filler: () => string): void {
  const from = HOSTILE_PEER;
  if (conn.transport === 'xml-ws' && input.make) return conn.sendRaw(input.make(id, from, t, filler));
  if (input.plaintext) return conn.sendRaw(input.plaintext(id, from, t, filler));
  if (input.node) return conn.send(input.node(id, from, t, filler));
  // A suite that runs an input on a wire it has no form for: the case's `transports` are wrong.
  throw new InternalError(`the input has no form for ${conn.transport}`);
}

/** A binary message as the gatekeeper would send it, under `codec`, with the plaintext's flags byte. */
const binaryMessage = (codec: BinaryNodeCodec, id: string, from: string, t: number, body: string): Uint8Array =>
  codec.encode(messageNode(id, from, t, encNode(body)));

/** IN-OVERSIZED's zlib bomb: a message whose ciphertext is 4 MiB of zeros, deflated, in a plaintext of its own. */
const zlibBomb = (id: string, from: string, t: number): Uint8Array =>
  packPlaintext(binaryMessage(binaryCodec, id, from, t, toBase64(new Uint8Array(4 * 1024 * 1024))), { compress: true });

const enc = (body: string): string => `<enc v="2" type="msg">${body}</enc>`;
const message = (id: string, from: string, t: number, inner: string): string =>
  `<message id="${id}" from="${from}" type="text" t="${t}">${inner}</message>`;

/** The element no profile names: IN-UNKNOWN's, and the carrier of the limits' inputs, where nothing else is wrong. */
const UNKNOWN_TAG = 'frobnicate';
const UNKNOWN_NS = 'urn:example:not-in-the-profile';

/** `<frobnicate id>` with `<level>`s nested inside it, `depth` elements deep in all. */
function deepUnknown(id: string, depth: number): StanzaNode {
  let inner = node('level', {}, String(depth));
  for (let i = 2; i < depth; i++) inner = node('level', {}, [inner]);
  return node(UNKNOWN_TAG, { id, xmlns: UNKNOWN_NS }, depth > 1 ? [inner] : []);
}

/** The same element as XML text. */
function deepUnknownXml(id: string, depth: number): string {
  const levels = depth - 2;
  return `<${UNKNOWN_TAG} id="${id}" xmlns="${UNKNOWN_NS}">${'<level>'.repeat(levels)}<level>${depth}</level>${'</level>'.repeat(levels)}</${UNKNOWN_TAG}>`;
}

/**
 * `<frobnicate id><level>x…</level></frobnicate>` of exactly `bytes` bytes as XML text; `wide`:
 * the text is three-byte characters (`€`), so the element is a third as many characters as bytes.
 */
function largeUnknownXml(id: string, bytes: number, wide = false): string {
  const open = `<${UNKNOWN_TAG} id="${id}" xmlns="${UNKNOWN_NS}"><level>`;
  const close = `</level></${UNKNOWN_TAG}>`;
  const room = bytes - Buffer.byteLength(open + close);
  const text = wide ? `${'€'.repeat(Math.floor(room / 3))}${'x'.repeat(room % 3)}` : 'x'.repeat(room);
  return `${open}${text}${close}`;
}

/** The same element, of exactly `bytes` bytes in the binary encoding the gatekeeper's wire writes. */
function largeUnknownNode(id: string, bytes: number): StanzaNode {
  const make = (length: number): StanzaNode =>
    node(UNKNOWN_TAG, { id, xmlns: UNKNOWN_NS }, [node('level', {}, 'x'.repeat(length))]);
  // A string's length prefix grows in steps, so the overhead is measured, then checked.
  let length = bytes;
  for (let i = 0; i < 4; i++) {
    const size = binaryCodec.encode(make(length)).length;
    if (size === bytes) return make(length);
    length += bytes - size;
  }
  throw new InternalError(`no unknown element of exactly ${bytes} bytes in the binary encoding`);
}

/**
 * The limits' inputs: the unknown element at a limit or one step past it, one form per wire; `wide`,
 * in three-byte characters as XML text only (xml-ws), since STANZA-SIZE counts bytes.
 */
const sizedUnknown = (bytes: number, condition: InboundCondition, wide = false): Input => ({
  condition,
  ...(condition === 'policy-violation' ? {} : { names: UNKNOWN_TAG }),
  make: (id) => largeUnknownXml(id, bytes, wide),
  ...(wide ? {} : { node: (id: string) => largeUnknownNode(id, bytes) }),
});
const nestedUnknown = (depth: number, condition: InboundCondition): Input => ({
  condition,
  ...(condition === 'policy-violation' ? {} : { names: UNKNOWN_TAG }),
  make: (id) => deepUnknownXml(id, depth),
  node: (id) => deepUnknown(id, depth),
});

const bomb = (): string => {
  const levels = Array.from(
    { length: 10 },
    (_, i) => `<!ENTITY l${i} "${i === 0 ? 'lol' : `&l${i - 1};`.repeat(10)}">`,
  );
  return `<!DOCTYPE message [${levels.join('')}]>`;
};

/** The group the hostile group messages claim to come from: no group of the gatekeeper's. */
const HOSTILE_GROUP = '120363000000000001@g.us';

/** What a group message from `HOSTILE_GROUP` has wrong, if anything. */
interface GroupWrong {
  readonly t?: false;
  readonly participant?: false;
  readonly skmsg?: ((f: () => string) => string) | undefined;
  readonly skmsgV?: string;
  readonly pairwise?: (f: () => string) => string;
  readonly xmlOnly?: true;
}

/**
 * A group message from `HOSTILE_GROUP` wrong in one way: without `t` or `participant`, with its
 * skmsg of another version, unreadable or absent, or with an unreadable pairwise `<enc>` beside it.
 * Text outside base64 is XML text's alone (`xmlOnly`): the binary wire carries ciphertexts as bytes.
 *
 * Its control is the same message with nothing wrong (GROUP-FANOUT's shape; a readable pairwise
 * `<enc>` where the input's is unreadable), which the client cannot open either: no sender key of
 * that group's reaches it. IN-BAD-REQUEST's `bad-request` is for an element that lacks or cannot
 * read what it requires, which this one does not; a message it cannot decrypt is
 * RECEIPT-AFTER-DECRYPT's, answered with a retry receipt (§8.3). So a client that answers
 * `bad-request` to any group message it cannot place has not earned the input's verdict.
 */
function groupInput(wrong: GroupWrong): Input {
  const control = groupMessage(wrong.pairwise ? { pairwise: (f) => f() } : {});
  return {
    condition: 'bad-request',
    names: 'message',
    control,
    ...(wrong.xmlOnly
      ? { make: (id, from, t, f) => xmlCodec.encode(groupMessage(wrong)(id, from, t, f)) }
      : { node: groupMessage(wrong) }),
  };
}

/** The group message `wrong` describes, as a node. */
function groupMessage(wrong: GroupWrong): NonNullable<Input['node']> {
  return (id, _from, t, f) => {
    const encs: StanzaNode[] = [];
    if (wrong.pairwise) encs.push(node('enc', { v: '2', type: 'msg' }, wrong.pairwise(f)));
    const skmsg = 'skmsg' in wrong ? wrong.skmsg : (g: () => string) => g();
    if (skmsg) encs.push(node('enc', { v: wrong.skmsgV ?? '2', type: 'skmsg' }, skmsg(f)));
    const attrs = {
      id,
      from: HOSTILE_GROUP,
      type: 'text',
      ...(wrong.t === false ? {} : { t: String(t) }),
      ...(wrong.participant === false ? {} : { participant: HOSTILE_PEER }),
    };
    return node('message', attrs, encs);
  };
}

/** Named hostile inputs; suites pick one by name in `params.input`. */
export const INPUTS: Record<string, Input> = {
  'not-well-formed': {
    condition: 'not-well-formed',
    make: (id, from, t, f) => `<message id="${id}" from="${from}" type="text" t="${t}">${enc(f())}`,
  },
  doctype: {
    condition: 'restricted-xml',
    make: (id, from, t) => `<!DOCTYPE message [<!ENTITY payload "AAAA">]>${message(id, from, t, enc('&payload;'))}`,
  },
  'entity-bomb': {
    condition: 'restricted-xml',
    make: (id, from, t) => `${bomb()}${message(id, from, t, enc('&l9;'))}`,
  },
  comment: {
    condition: 'restricted-xml',
    make: (id, from, t, f) => message(id, from, t, `<!-- routed by the gatekeeper -->${enc(f())}`),
  },
  'processing-instruction': {
    condition: 'restricted-xml',
    make: (id, from, t, f) => message(id, from, t, `<?render fast?>${enc(f())}`),
  },
  // The profile's own restricted XML (IN-RESTRICTED [5], [6]): no XML declaration before a stanza, no CDATA section in one.
  'xml-declaration': {
    condition: 'restricted-xml',
    make: (id, from, t, f) => `<?xml version="1.0" encoding="UTF-8"?>${message(id, from, t, enc(f()))}`,
  },
  cdata: {
    condition: 'restricted-xml',
    make: (id, from, t, f) => message(id, from, t, enc(`<![CDATA[${f()}]]>`)),
  },
  'undeclared-entity': {
    condition: 'restricted-xml',
    make: (id, from, t) => message(id, from, t, enc('&payload;')),
  },
  // One byte, and one level, past the limit; each after the same element exactly at it.
  oversized: {
    ...sizedUnknown(PROFILE_LIMITS.maxBytes + 1, 'policy-violation'),
    atLimit: sizedUnknown(PROFILE_LIMITS.maxBytes, 'feature-not-implemented'),
  },
  // The same over xml-ws in text of three-byte characters: a limit counted in characters lets the
  // element past it through, as a third of the size.
  'oversized-multibyte': {
    ...sizedUnknown(PROFILE_LIMITS.maxBytes + 1, 'policy-violation', true),
    atLimit: sizedUnknown(PROFILE_LIMITS.maxBytes, 'feature-not-implemented', true),
  },
  'too-deep': {
    ...nestedUnknown(PROFILE_LIMITS.maxDepth + 1, 'policy-violation'),
    atLimit: nestedUnknown(PROFILE_LIMITS.maxDepth, 'feature-not-implemented'),
  },
  'mixed-content': {
    condition: 'bad-request',
    names: 'message',
    make: (id, from, t, f) => message(id, from, t, `read me${enc(f())}`),
  },
  // IN-ERROR: the same, its id after 300 characters of attributes the client does not know: a client
  // that reads only the frame's first few hundred characters for the refused element's id misses it.
  'mixed-content-long-tag': {
    condition: 'bad-request',
    names: 'message',
    make: (id, from, t, f) =>
      `<message from="${from}" type="text" t="${t}" x-route="${'r'.repeat(300)}" id="${id}">read me${enc(f())}</message>`,
  },
  'unknown-element': {
    condition: 'feature-not-implemented',
    names: UNKNOWN_TAG,
    make: (id) => `<${UNKNOWN_TAG} id="${id}" xmlns="${UNKNOWN_NS}"><level>11</level></${UNKNOWN_TAG}>`,
    node: (id) => node(UNKNOWN_TAG, { id, xmlns: UNKNOWN_NS }, [node('level', {}, '11')]),
  },
  // The binary wire's own (noise-binary): what only a token stream can get wrong.
  'binary-truncated': {
    condition: 'not-well-formed',
    plaintext: (id, from, t, f) => packPlaintext(binaryMessage(binaryCodec, id, from, t, f()).subarray(0, -3)),
  },
  'binary-unknown-token': {
    condition: 'not-well-formed',
    // A one-item list whose tag is token 246, which no dictionary the profile names defines.
    plaintext: () => packPlaintext(Uint8Array.of(248, 1, 246)),
  },
  'binary-bad-jid': {
    condition: 'bad-request',
    // An interop jid naming another integrator than the connection's (noise-wire's 0): whatsmeow's form, wrong value.
    plaintext: (id, _from, t, f) =>
      packPlaintext(binaryMessage(new BinaryNodeCodec(PROFILE_LIMITS, { integrator: 7 }), id, '1-123@interop', t, f())),
  },
  'binary-zlib-bomb': {
    condition: 'policy-violation',
    // A message whose ciphertext is 4 MiB of zeros, 16 times the element cap, deflated to a few KiB:
    // refused once inflating passes the cap, never inflated whole.
    plaintext: (id, from, t) => zlibBomb(id, from, t),
  },
  'binary-zlib-bomb-bad-checksum': {
    condition: 'policy-violation',
    // The same bomb with its zlib checksum (the stream's last byte) wrong: a client that stops at the
    // cap never reads it; one that inflates the whole stream before it weighs the element finds a
    // stream that does not inflate, and says not-well-formed.
    plaintext: (id, from, t) => {
      const bomb = zlibBomb(id, from, t);
      bomb[bomb.length - 1] = (bomb[bomb.length - 1] ?? 0) ^ 0xff;
      return bomb;
    },
  },
  // IN-ERROR: a known element other than <message>, refused, is named by its own tag and id.
  'receipt-missing-from': {
    condition: 'bad-request',
    names: 'receipt',
    node: (id, _from, t) => node('receipt', { id, t: String(t) }),
  },
  // IN-BAD-REQUEST: each required attribute and child of a one-to-one `<message>` alone, so that a
  // client that checks only some of them is caught.
  'message-without-t': {
    condition: 'bad-request',
    names: 'message',
    node: (id, from, _t, f) => node('message', { id, from, type: 'text' }, [encNode(f())]),
  },
  'message-without-from': {
    condition: 'bad-request',
    names: 'message',
    node: (id, _from, t, f) => node('message', { id, type: 'text', t: String(t) }, [encNode(f())]),
  },
  'message-without-enc': {
    condition: 'bad-request',
    names: 'message',
    node: (id, from, t) => node('message', { id, from, type: 'text', t: String(t) }),
  },
  // ENC-VERSION: an `<enc>` of a version the profile does not name cannot be read.
  'enc-version-1': {
    condition: 'bad-request',
    names: 'message',
    node: (id, from, t, f) => messageNode(id, from, t, node('enc', { v: '1', type: 'msg' }, f())),
  },
  // ENC-TYPE: a one-to-one `<enc>` is pkmsg or msg; a sender key's skmsg belongs in a group message.
  'enc-unknown-type': {
    condition: 'bad-request',
    names: 'message',
    node: (id, from, t, f) => messageNode(id, from, t, node('enc', { v: '2', type: 'skmsg' }, f())),
  },
  // ENC-ENCODING: canonical padded base64, which `_` and `-` (base64url's) are outside of. XML text's
  // alone: the binary wire carries ciphertexts as bytes.
  'enc-not-base64': {
    condition: 'bad-request',
    names: 'message',
    make: (id, from, t, f) => message(id, from, t, enc(`_-_-${f()}`)),
  },
  // An `<enc>` carries its ciphertext as text, never child elements.
  'enc-with-children': {
    condition: 'bad-request',
    names: 'message',
    node: (id, from, t) => messageNode(id, from, t, node('enc', { v: '2', type: 'msg' }, [node(UNKNOWN_TAG, {})])),
  },
  // IN-BAD-REQUEST for a group message (GROUP-SKMSG, GROUP-IN): `participant`, `t` and one readable
  // skmsg of v="2" are required, and a pairwise `<enc>` beside it must be readable too.
  'group-without-t': groupInput({ t: false }),
  'group-without-participant': groupInput({ participant: false }),
  'group-without-skmsg': groupInput({ skmsg: undefined }),
  'group-skmsg-version-1': groupInput({ skmsgV: '1' }),
  'group-skmsg-not-base64': groupInput({ skmsg: (f) => `_-_-${f()}`, xmlOnly: true }),
  'group-pairwise-not-base64': groupInput({ pairwise: (f) => `_-_-${f()}`, xmlOnly: true }),
  // An `<iq>` needs its `type` (IN-BAD-REQUEST); one the client does not know, a get of another
  // namespace than ping's or a ping that is no get, is IN-UNKNOWN's, never answered as a ping.
  'iq-without-type': {
    condition: 'bad-request',
    names: 'iq',
    node: (id) => node('iq', { id, xmlns: 'urn:xmpp:ping' }, [node('ping', {})]),
  },
  'unknown-iq-get': {
    condition: 'feature-not-implemented',
    names: 'iq',
    node: (id) => node('iq', { id, type: 'get', xmlns: UNKNOWN_NS }, [node(UNKNOWN_TAG, {})]),
  },
  'ping-set': {
    condition: 'feature-not-implemented',
    names: 'iq',
    node: (id) => node('iq', { id, type: 'set', xmlns: 'urn:xmpp:ping' }, [node('ping', {})]),
  },
  'missing-attributes': {
    condition: 'bad-request',
    names: 'message',
    make: (id, _from, _t, f) => `<message id="${id}" type="text">${enc(f())}</message>`,
    node: (id, _from, _t, f) => node('message', { id, type: 'text' }, [encNode(f())]),
  },
};

/**
 * What a case of `stanza/inbound` judges: `answer`, the input's own condition (IN-NOT-WELL-FORMED to
 * IN-BAD-REQUEST, XML-MIXED, XML-DEPTH, SHOULDs) and then a live connection; `naming`, only that an
 * error answer, of any condition, names the element (IN-ERROR, a MUST the lineage meets: whatsmeow
 * answers a message or receipt it cannot parse with `<ack class id error="487">`, receipt.go sendAck,
 * and Baileys answers it with nothing).
 */
const JUDGES = ['answer', 'naming'] as const;
type Judge = (typeof JUDGES)[number];

/** The answer `input` must get, with the id it was sent under. */
const answerFor = (input: Input, id: string): string =>
  `<ack error="${input.condition}"${input.names ? ` class="${input.names}" id="${id}"` : ''}/>`;

/** Random ciphertext-sized base64, for the inputs' `<enc>`s. */
const fillerOf = (ctx: CheckContext) => (): string =>
  toBase64(Uint8Array.from({ length: 48 }, () => ctx.rng.int(0, 256)));

/**
 * Sends `input` under `id` and waits for the client's `<ack error>`: undefined when it is the
 * answer `input` must get, otherwise what came instead (`what` names the input in that text).
 */
async function sendAndJudge(
  ctx: CheckContext,
  conn: ClientConnection,
  input: Input,
  id: string,
  what: string,
  judge: Judge = 'answer',
): Promise<string | undefined> {
  const filler = fillerOf(ctx);
  const afterSeq = lastSeq(conn);
  ctx.step(`send ${what}`);
  expectAnswersToHostileInputs(ctx, [id]);
  sendInput(conn, input, id, unixSeconds(ctx.clock), filler);
  ctx.step(`wait for the answer to ${what}`);
  const answer = await ctx.testbed.frameFrom(
    conn,
    sends('ack', {}, (n) => n.attrs['error'] !== undefined),
    { afterSeq },
  );
  const ackWithError = sentBy(conn, afterSeq).find(
    (s) => s.element.tag === 'ack' && s.element.attrs['error'] !== undefined,
  )?.element;
  if (!answer || !ackWithError) {
    // No error answer names nothing wrongly: whether one is due is the condition's requirement.
    if (judge === 'naming') return undefined;
    return `${noneBefore(`no <ack error> for ${what}`, conn.closed)}; the client sent ${describeAll(sentBy(conn, afterSeq).map((s) => s.element))}`;
  }
  const shown = `${what} answered error="${ackWithError.attrs['error'] ?? ''}": ${show(ackWithError)}`;
  if (judge === 'answer' && ackWithError.attrs['error'] !== input.condition) return shown;
  if (input.names && ackWithError.attrs['id'] !== id) return `${shown}: the answer does not name id ${id}`;
  if (input.names && ackWithError.attrs['class'] !== input.names)
    return `${shown}: the answer names class "${ackWithError.attrs['class'] ?? ''}", not the <${input.names}> it refused`;
  return undefined;
}

/**
 * Sends `control`, `input`'s element with nothing wrong, under `id`, and takes all its answers at a
 * ping (IN-ORDER), which must come (IN-KEEP-CONNECTION): undefined unless one refuses it with `input`'s own condition, otherwise what
 * the client answered it. Any other answer is no concern of the input's: a retry receipt, an ack.
 */
async function sendAndJudgeControl(
  ctx: CheckContext,
  conn: ClientConnection,
  input: Input,
  control: NonNullable<Input['control']>,
  id: string,
): Promise<string | undefined> {
  const afterSeq = lastSeq(conn);
  ctx.step('send the same element with nothing wrong');
  expectAnswersToHostileInputs(ctx, [id]);
  conn.send(control(id, HOSTILE_PEER, unixSeconds(ctx.clock), fillerOf(ctx)));
  ctx.step('wait, at a ping, for all its answers');
  // A client that does not answer the ping fails the case's last step anyway: it fails here at once.
  if (!(await conn.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS })))
    return `the same ${input.names ?? 'element'} with nothing wrong, sent first, then ${noneBefore('no answer to a ping', conn.closed)}`;
  const answers = sentBy(conn, afterSeq).map((s) => s.element);
  const refusal = answers.find(
    (n) => n.tag === 'ack' && n.attrs['error'] === input.condition && (n.attrs['id'] ?? id) === id,
  );
  if (!refusal) return undefined;
  return `the same ${input.names ?? 'element'} with nothing wrong, sent first, answered error="${input.condition}": ${describeAll(answers.filter((n) => n.tag !== 'iq'))}`;
}

/**
 * IN-*: send `params.input`; expect `<ack error={its condition}>`; then the connection must still
 * answer a ping. An input one step past a limit comes after the same element at the limit, whose
 * own answer is judged first; an input with a control, after the same element with nothing wrong,
 * which must not be refused with the input's condition. With `params.judge` `naming` (IN-ERROR),
 * only the naming of an error answer, if one comes, is judged.
 */
export const inboundAnswer = defineCheck(
  {
    name: 'stanza/inbound',
    params: paramsOf({ input: { enum: Object.keys(INPUTS) }, judge: { enum: [...JUDGES] } }, ['input']),
  },
  async (ctx) => {
    const name = choiceParam(ctx, 'input', Object.keys(INPUTS));
    const input = INPUTS[name] as Input;
    const judge = choiceParam(ctx, 'judge', JUDGES, 'answer');
    const user = await ctx.testbed.providerUser();
    const conn = user.connection;
    const id = ctx.rng.string(20);
    if (judge === 'naming') {
      if (!input.names || input.control || input.atLimit)
        throw new SuiteError(`the input ${name} names no element, or needs a control: judge it by its answer`);
      const wrong = await sendAndJudge(ctx, conn, input, id, name, judge);
      return wrong === undefined
        ? met()
        : notMet(`any <ack error> for it naming it: class="${input.names}" id="${id}"`, wrong);
    }
    const limitId = input.atLimit ? ctx.rng.string(20) : '';
    const controlId = input.control ? ctx.rng.string(20) : '';
    const expected = `${input.atLimit ? `${answerFor(input.atLimit, limitId)} for the same element exactly at the limit, then ` : ''}${input.control ? `no <ack error="${input.condition}"> for the same element with nothing wrong, then ` : ''}${answerFor(input, id)} and a live connection`;
    if (input.control) {
      const wrong = await sendAndJudgeControl(ctx, conn, input, input.control, controlId);
      if (wrong !== undefined) return notMet(expected, wrong);
    }
    if (input.atLimit) {
      const wrong = await sendAndJudge(ctx, conn, input.atLimit, limitId, 'the element exactly at the limit');
      if (wrong !== undefined) return notMet(expected, wrong);
      if (conn.closed)
        return notMet(
          expected,
          `the right answer at the limit, then the connection closed (code ${conn.closed.code}, by ${conn.closed.by})`,
        );
    }
    const wrong = await sendAndJudge(ctx, conn, input, id, input.atLimit ? `${name}, one step past the limit` : name);
    if (wrong !== undefined) return notMet(expected, wrong);

    ctx.step('check the connection is still alive');
    const alive = conn.closed === undefined && (await conn.ping({ signal: ctx.signal, timeoutMs: ANSWER_MS }));
    if (!alive) {
      return notMet(
        expected,
        conn.closed
          ? `the right answer, then the connection closed (code ${conn.closed.code}, by ${conn.closed.by})`
          : 'the right answer, then no answer to a ping',
      );
    }
    return met();
  },
);

/** Whether `input` has a form for `transport`'s wire (sendInput). */
const sendableOver = (input: Input, transport: ClientConnection['transport']): boolean =>
  transport === 'xml-ws'
    ? input.make !== undefined || input.node !== undefined
    : input.plaintext !== undefined || input.node !== undefined;

/**
 * IN-KEEP-CONNECTION: after bad input, the connection still carries a real message to the user.
 * The bad input is `params.input` alone, or else every input with a form for the wire: the
 * survival each input's own case judges only after the right answer, a SHOULD, is a MUST here,
 * whatever the client answered.
 */
export const keepsConnection = defineCheck(
  { name: 'stanza/inbound/keeps-connection', params: paramsOf({ input: { enum: Object.keys(INPUTS) } }) },
  async (ctx) => {
    const p = await pair(ctx);
    const conn = p.provider.connection;
    const filler = fillerOf(ctx);
    const names =
      ctx.params['input'] === undefined
        ? Object.keys(INPUTS).filter((n) => sendableOver(INPUTS[n] as Input, conn.transport))
        : [choiceParam(ctx, 'input', Object.keys(INPUTS))];
    ctx.step(`send ${names.join(', ')}`);
    const ids = names.map(() => ctx.rng.string(20));
    expectAnswersToHostileInputs(ctx, ids);
    for (const [n, name] of names.entries())
      sendInput(conn, INPUTS[name] as Input, ids[n] as string, unixSeconds(ctx.clock), filler);
    const { id, afterSeq } = await receiveOne(p, ctx, 'real message');
    ctx.step("wait for the real message's answer");
    // Its ack or its receipt: either shows the connection still carries messages to the client.
    const answered = (f: FrameEvent): boolean =>
      sends('receipt', { id })(f) || sends('ack', { class: 'message', id })(f);
    if (await ctx.testbed.frameFrom(conn, answered, { afterSeq })) return met();
    const closed = conn.closed
      ? `the connection closed (code ${conn.closed.code}, by ${conn.closed.by})`
      : `no answer within ${ANSWER_MS} ms`;
    return notMet(
      `an ack or receipt for a real message after ${names.length} bad elements`,
      `${closed}; the client sent ${describeAll(sentBy(conn, afterSeq).map((x) => x.element))}`,
    );
  },
);
