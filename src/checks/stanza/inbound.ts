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
import { packPlaintext } from '../../protocol/binary/plaintext.js';
import { InternalError } from '../../core/errors.js';
import { ANSWER_MS, choiceParam, defineCheck, paramsOf, type CheckContext } from '../check.js';
import { describeAll, lastSeq, sends, sentBy, show } from '../observe.js';
import { pair, receiveOne } from '../scenarios/conversation.js';
import { unixSeconds } from '../../core/clock.js';

interface Input {
  readonly condition: InboundCondition;
  /** Whether the element is readable enough that the answer must name its class and id. */
  readonly identified: boolean;
  /** The input as XML text, for xml-ws; absent for an input of the binary wire alone. */
  readonly make?: (id: string, from: string, t: number, filler: () => string) => string;
  /** A Noise frame's plaintext that no node can say (a broken token stream): the binary wire's own inputs. */
  readonly plaintext?: (id: string, from: string, t: number, filler: () => string) => Uint8Array;
  /**
   * The same input as a node, for a wire that encodes nodes itself (noise-binary); absent when only
   * XML text can say it (restricted XML, mixed content), which makes the case xml-ws's alone.
   */
  readonly node?: (id: string, from: string, t: number, filler: () => string) => StanzaNode;
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

const enc = (body: string): string => `<enc v="2" type="msg">${body}</enc>`;
const message = (id: string, from: string, t: number, inner: string): string =>
  `<message id="${id}" from="${from}" type="text" t="${t}">${inner}</message>`;

const bomb = (): string => {
  const levels = Array.from(
    { length: 10 },
    (_, i) => `<!ENTITY l${i} "${i === 0 ? 'lol' : `&l${i - 1};`.repeat(10)}">`,
  );
  return `<!DOCTYPE message [${levels.join('')}]>`;
};

/** Named hostile inputs; suites pick one by name in `params.input`. */
export const INPUTS: Record<string, Input> = {
  'not-well-formed': {
    condition: 'not-well-formed',
    identified: false,
    make: (id, from, t, f) => `<message id="${id}" from="${from}" type="text" t="${t}">${enc(f())}`,
  },
  doctype: {
    condition: 'restricted-xml',
    identified: false,
    make: (id, from, t) => `<!DOCTYPE message [<!ENTITY payload "AAAA">]>${message(id, from, t, enc('&payload;'))}`,
  },
  'entity-bomb': {
    condition: 'restricted-xml',
    identified: false,
    make: (id, from, t) => `${bomb()}${message(id, from, t, enc('&l9;'))}`,
  },
  comment: {
    condition: 'restricted-xml',
    identified: false,
    make: (id, from, t, f) => message(id, from, t, `<!-- routed by the gatekeeper -->${enc(f())}`),
  },
  'processing-instruction': {
    condition: 'restricted-xml',
    identified: false,
    make: (id, from, t, f) => message(id, from, t, `<?render fast?>${enc(f())}`),
  },
  'undeclared-entity': {
    condition: 'restricted-xml',
    identified: false,
    make: (id, from, t) => message(id, from, t, enc('&payload;')),
  },
  oversized: {
    condition: 'policy-violation',
    identified: false,
    make: (id, from, t) => message(id, from, t, enc('A'.repeat(PROFILE_LIMITS.maxBytes + 4096))),
    // Binary content is raw bytes on the binary wire: the same size needs that many bytes, not characters.
    node: (id, from, t) => messageNode(id, from, t, encNode(toBase64(new Uint8Array(PROFILE_LIMITS.maxBytes + 4096)))),
  },
  'too-deep': {
    condition: 'policy-violation',
    identified: false,
    make: (id, from, t, f) =>
      message(
        id,
        from,
        t,
        `${'<x>'.repeat(PROFILE_LIMITS.maxDepth + 8)}${enc(f())}${'</x>'.repeat(PROFILE_LIMITS.maxDepth + 8)}`,
      ),
    node: (id, from, t, f) => {
      let inner = encNode(f());
      for (let i = 0; i < PROFILE_LIMITS.maxDepth + 8; i++) inner = node('x', {}, [inner]);
      return messageNode(id, from, t, inner);
    },
  },
  'mixed-content': {
    condition: 'bad-request',
    identified: true,
    make: (id, from, t, f) => message(id, from, t, `read me${enc(f())}`),
  },
  'unknown-element': {
    condition: 'feature-not-implemented',
    identified: true,
    make: (id) => `<frobnicate id="${id}" xmlns="urn:example:not-in-the-profile"><level>11</level></frobnicate>`,
    node: (id) => node('frobnicate', { id, xmlns: 'urn:example:not-in-the-profile' }, [node('level', {}, '11')]),
  },
  // The binary wire's own (noise-binary): what only a token stream can get wrong.
  'binary-truncated': {
    condition: 'not-well-formed',
    identified: false,
    plaintext: (id, from, t, f) => packPlaintext(binaryMessage(binaryCodec, id, from, t, f()).subarray(0, -3)),
  },
  'binary-unknown-token': {
    condition: 'not-well-formed',
    identified: false,
    // A one-item list whose tag is token 246, which no dictionary the profile names defines.
    plaintext: () => packPlaintext(Uint8Array.of(248, 1, 246)),
  },
  'binary-bad-jid': {
    condition: 'bad-request',
    identified: false,
    // An interop jid naming another integrator than the connection's (noise-wire's 0): whatsmeow's form, wrong value.
    plaintext: (id, _from, t, f) =>
      packPlaintext(binaryMessage(new BinaryNodeCodec(PROFILE_LIMITS, { integrator: 7 }), id, '1-123@interop', t, f())),
  },
  'binary-zlib-bomb': {
    condition: 'policy-violation',
    identified: false,
    // A message whose ciphertext is 4 MiB of zeros, 16 times the element cap, deflated to a few KiB:
    // refused once inflating passes the cap, never inflated whole.
    plaintext: (id, from, t) =>
      packPlaintext(binaryMessage(binaryCodec, id, from, t, toBase64(new Uint8Array(4 * 1024 * 1024))), {
        compress: true,
      }),
  },
  'missing-attributes': {
    condition: 'bad-request',
    identified: true,
    make: (id, _from, _t, f) => `<message id="${id}" type="text">${enc(f())}</message>`,
    node: (id, _from, _t, f) => node('message', { id, type: 'text' }, [encNode(f())]),
  },
};

/** IN-*: send `params.input`; expect `<ack error={its condition}>`; then the connection must still answer a ping. */
export const inboundAnswer = defineCheck(
  { name: 'stanza/inbound', params: paramsOf({ input: { enum: Object.keys(INPUTS) } }, ['input']) },
  async (ctx) => {
    const name = choiceParam(ctx, 'input', Object.keys(INPUTS));
    const input = INPUTS[name] as Input;
    const user = await ctx.testbed.providerUser();
    const conn = user.connection;
    const id = ctx.rng.string(20);
    const filler = (): string => toBase64(Uint8Array.from({ length: 48 }, () => ctx.rng.int(0, 256)));
    const afterSeq = lastSeq(conn);
    ctx.step(`send ${name}`);
    expectAnswersToHostileInputs(ctx, [id]);
    sendInput(conn, input, id, unixSeconds(ctx.clock), filler);

    ctx.step('wait for the error answer');
    const expected = `<ack error="${input.condition}"${input.identified ? ` class id="${id}"` : ''}/> and a live connection`;
    const answer = await ctx.testbed.frameFrom(
      conn,
      sends('ack', {}, (n) => n.attrs['error'] !== undefined),
      { afterSeq },
    );
    const ackWithError = sentBy(conn, afterSeq).find(
      (s) => s.element.tag === 'ack' && s.element.attrs['error'] !== undefined,
    )?.element;
    if (!answer || !ackWithError) {
      const closed = conn.closed ? `; the connection closed (code ${conn.closed.code})` : '';
      return notMet(
        expected,
        `no <ack error> within ${ANSWER_MS} ms${closed}; the client sent ${describeAll(sentBy(conn, afterSeq).map((s) => s.element))}`,
      );
    }
    if (ackWithError.attrs['error'] !== input.condition) return notMet(expected, show(ackWithError));
    if (input.identified && ackWithError.attrs['id'] !== id)
      return notMet(expected, `${show(ackWithError)}: the answer does not name id ${id}`);

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

/** IN-KEEP-CONNECTION: after a run of bad input, the connection still carries a real message to the user. */
export const keepsConnection = defineCheck({ name: 'stanza/inbound/keeps-connection' }, async (ctx) => {
  const p = await pair(ctx);
  const conn = p.provider.connection;
  const filler = (): string => toBase64(Uint8Array.from({ length: 48 }, () => ctx.rng.int(0, 256)));
  const names =
    conn.transport === 'xml-ws'
      ? ['not-well-formed', 'doctype', 'unknown-element', 'missing-attributes']
      : ['binary-truncated', 'binary-unknown-token', 'unknown-element', 'missing-attributes'];
  ctx.step(`send ${names.join(', ')}`);
  const ids = names.map(() => ctx.rng.string(20));
  expectAnswersToHostileInputs(ctx, ids);
  for (const [n, name] of names.entries())
    sendInput(conn, INPUTS[name] as Input, ids[n] as string, unixSeconds(ctx.clock), filler);
  const { id, afterSeq } = await receiveOne(p, ctx, 'real message');
  ctx.step("wait for the real message's answer");
  // Its ack or its receipt: either shows the connection still carries messages to the client.
  const answered = (f: FrameEvent): boolean => sends('receipt', { id })(f) || sends('ack', { class: 'message', id })(f);
  if (await ctx.testbed.frameFrom(conn, answered, { afterSeq })) return met();
  const closed = conn.closed
    ? `the connection closed (code ${conn.closed.code}, by ${conn.closed.by})`
    : `no answer within ${ANSWER_MS} ms`;
  return notMet(
    `an ack or receipt for a real message after ${names.length} bad elements`,
    `${closed}; the client sent ${describeAll(sentBy(conn, afterSeq).map((x) => x.element))}`,
  );
});
