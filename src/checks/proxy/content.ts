/**
 * What a proxy carries (docs/PROFILE.md §15): end-to-end encryption stays on the client, so every
 * `<enc>` reaches the gatekeeper as the client produced it and no text of a message passes in the
 * clear (PROXY-NO-DECRYPT); and the connection carries the interop service only (PROXY-INTEROP-ONLY).
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { ClientConnection, FrameEvent } from '../../gatekeeper/types.js';
import { fromBase64 } from '../../protocol/base64.js';
import { ENCRYPT_NS, KEEPALIVE_NS, PING_NS } from '../../protocol/constants.js';
import type { SentEnc } from '../../protocol/driver-api.js';
import { ACCOUNT_NS } from '../../protocol/enlistment.js';
import { GROUPS_NS } from '../../protocol/groups.js';
import { BLOCKLIST_NS, CHATSTATE_TAG } from '../../protocol/messaging.js';
import type { StanzaNode } from '../../protocol/node.js';
import { defineCheck } from '../check.js';
import { barrier, elementsOf, lastSeq, noneBefore, sentBy, show } from '../observe.js';
import { pair, receiveOne, type Pair } from '../scenarios/conversation.js';
import type { CheckContext } from '../check.js';

/** Every `<enc>` under `n`, in document order. */
function encsOf(n: StanzaNode): StanzaNode[] {
  return n.tag === 'enc' ? [n] : n.children.flatMap(encsOf);
}

/** The provider user sends a text; the `<message>` the gatekeeper got for it, and its stanza id. */
async function sendThroughProxy(
  { provider, gatekeeperUser }: Pair,
  ctx: CheckContext,
  text: string,
): Promise<{ readonly id: string; readonly element: StanzaNode; readonly afterSeq: number }> {
  const afterSeq = lastSeq(provider.connection);
  ctx.step('the provider user sends a text');
  const { id } = await provider.send(gatekeeperUser.jid, text);
  const isIt = (f: FrameEvent): boolean =>
    f.direction === 'client-to-gatekeeper' && elementsOf(f).some((n) => n.tag === 'message' && n.attrs['id'] === id);
  const frame = await ctx.testbed.frameFrom(provider.connection, isIt, { afterSeq });
  const element = frame && elementsOf(frame).find((n) => n.tag === 'message' && n.attrs['id'] === id);
  if (!element)
    throw new PreconditionError(
      `the driver sent message ${id}, but ${noneBefore(`no <message id="${id}"> came`, provider.connection.closed)}`,
    );
  return { id, element, afterSeq };
}

/** PROXY-NO-DECRYPT: each `<enc>` the gatekeeper got is the one the client produced, byte for byte. */
export function judgeEncUntouched(id: string, received: readonly StanzaNode[], produced: readonly SentEnc[]): Finding {
  const expected = `each <enc> of message ${id} at the gatekeeper byte for byte as the client produced it (the driver's outbox)`;
  if (received.length !== produced.length)
    return notMet(expected, `${received.length} <enc> at the gatekeeper, ${produced.length} in the client's outbox`);
  for (const [i, enc] of received.entries()) {
    const mine = produced[i] as SentEnc;
    const got = fromBase64(enc.text ?? '') ?? new Uint8Array();
    const made = fromBase64(mine.ciphertext) ?? new Uint8Array();
    if (enc.attrs['type'] !== mine.type)
      return notMet(
        expected,
        `<enc type="${enc.attrs['type'] ?? ''}"> at the gatekeeper, type ${mine.type} from the client`,
      );
    if (Buffer.compare(Buffer.from(got), Buffer.from(made)) !== 0) {
      let at = 0;
      while (at < got.length && at < made.length && got[at] === made[at]) at++;
      return notMet(
        expected,
        `the <enc type="${mine.type}"> the gatekeeper got differs from the one the client produced: ${got.length} bytes, not ${made.length}, first different at byte ${at}`,
      );
    }
  }
  return met(`${received.length} <enc>, as the client produced them`);
}

/** PROXY-NO-DECRYPT: the ciphertext the client produced reaches the gatekeeper untouched. */
export const encUntouched = defineCheck({ name: 'proxy/content/enc-untouched' }, async (ctx) => {
  const p = await pair(ctx);
  const { id, element } = await sendThroughProxy(p, ctx, `proxy ${ctx.rng.string(16)}`);
  ctx.step("read the client's own record of the message");
  const outbox = await p.provider.outbox();
  const produced = outbox.messages.find((m) => m.id === id);
  if (!produced)
    return notMet(
      `message ${id} in the driver's outbox, with the <enc> the client produced`,
      `no message ${id} in the outbox`,
    );
  return judgeEncUntouched(id, encsOf(element), produced.enc);
});

/** PROXY-NO-DECRYPT: no text of the message, in any frame the connection carried since `afterSeq`. */
export function judgeNoPlaintext(connection: ClientConnection, afterSeq: number, secret: string): Finding {
  const leak = connection.frames.find(
    (f) => f.direction === 'client-to-gatekeeper' && f.seq > afterSeq && f.text.includes(secret),
  );
  if (!leak) return met();
  const element = elementsOf(leak)[0];
  return notMet(
    'no text of a message in the clear in anything the proxy sends',
    `the message's text "${secret}" in the clear in ${element ? showAttrs(element) : leak.text.slice(0, 120)}`,
  );
}

/** An element with its attributes, its content elided: where a text shows up in the clear. */
const showAttrs = (n: StanzaNode): string => show({ ...n, children: [], text: '…' }, 240);

/** PROXY-NO-DECRYPT: the text of a message never passes in the clear. */
export const noPlaintext = defineCheck({ name: 'proxy/content/no-plaintext' }, async (ctx) => {
  const p = await pair(ctx);
  const secret = ctx.rng.string(16);
  const { afterSeq } = await sendThroughProxy(p, ctx, `proxy ${secret}`);
  ctx.step('let the message settle');
  await barrier(p.provider.connection, ctx.signal);
  return judgeNoPlaintext(p.provider.connection, afterSeq, secret);
});

/** The namespaces of the IQ requests this profile has a client send. */
const CLIENT_IQ_NAMESPACES: ReadonlySet<string> = new Set([
  ENCRYPT_NS,
  KEEPALIVE_NS,
  PING_NS,
  BLOCKLIST_NS,
  ACCOUNT_NS,
  GROUPS_NS,
]);

/** The elements this profile has a client send, besides IQs. */
const CLIENT_ELEMENTS: ReadonlySet<string> = new Set(['open', 'close', 'message', 'receipt', 'ack', CHATSTATE_TAG]);

/** PROXY-INTEROP-ONLY: every element the connection carried is one the profile has a client send. */
export function judgeInteropOnly(elements: readonly StanzaNode[]): Finding {
  const foreign = elements.filter((n) => {
    if (n.tag !== 'iq') return !CLIENT_ELEMENTS.has(n.tag);
    const type = n.attrs['type'];
    if (type === 'result' || type === 'error') return false;
    return !CLIENT_IQ_NAMESPACES.has(n.attrs['xmlns'] ?? '');
  });
  if (foreign.length === 0) return met(`${elements.length} elements, each of the interop service`);
  const first = foreign[0] as StanzaNode;
  return notMet(
    'only the interop service on the connection: elements this profile has a client send',
    `${show(first)}, which the profile has no client send${foreign.length > 1 ? `, and ${foreign.length - 1} more` : ''}`,
  );
}

/** PROXY-INTEROP-ONLY: a conversation both ways, and nothing but the interop service on the connection. */
export const interopOnly = defineCheck({ name: 'proxy/service/interop-only' }, async (ctx) => {
  const p = await pair(ctx);
  await sendThroughProxy(p, ctx, `proxy ${ctx.rng.string(16)}`);
  await receiveOne(p, ctx);
  ctx.step('let the conversation settle');
  await barrier(p.provider.connection, ctx.signal);
  return judgeInteropOnly(sentBy(p.provider.connection).map((s) => s.element));
});
