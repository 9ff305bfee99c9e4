/** Retry receipts, both ways (docs/PROFILE.md §14.2). */
import { PreconditionError } from '../../core/errors.js';
import { met, notApplicable, notMet, type Finding } from '../../core/model.js';
import { child, type StanzaNode } from '../../protocol/node.js';
import { MAX_RESENDS, retryRegistration } from '../../protocol/messaging.js';
import { outgoingEnc, readPreKeyUpload } from '../../protocol/stanzas.js';
import type { GatekeeperDelivery } from '../../gatekeeper/types.js';
import { choiceParam, defineCheck, numberParam, paramsOf, ANSWER_MS, QUIET_MS, type CheckContext } from '../check.js';
import { readText } from '../../protocol/payload.js';
import { answerTo } from '../scenarios/exchange.js';
import { readContent } from './content.js';
import { describeAll, lastSeq, noneBefore, sends, sentBy, show } from '../observe.js';
import {
  askResend,
  deliverUndecryptable,
  pair,
  receiveOne,
  sendOne,
  sendOneWithId,
  type Outbound,
  type Pair,
} from '../scenarios/conversation.js';
import type { Clock } from '../../core/clock.js';
import { judgeTime } from '../time.js';

/**
 * The client's retry receipt for a message it could not decrypt, with the registration id it
 * uploaded; with `messages` above 1, the last of that many from the same sender, each retried in turn.
 */
async function retryFor(
  ctx: CheckContext,
  messages = 1,
): Promise<{ id: string; t: string; retry: StanzaNode; registrationId: number }> {
  const p = await pair(ctx);
  const upload = sentBy(p.provider.connection)
    .map((s) => readPreKeyUpload(s.element))
    .find((u) => u !== null);
  if (!upload) throw new PreconditionError('the client uploaded no keys the harness could read');
  for (let i = 1; i < messages; i++) await retried(ctx, p);
  const { id, afterSeq, t } = deliverUndecryptable(p, ctx);
  ctx.step('wait for the retry receipt');
  await ctx.testbed.frameFrom(p.provider.connection, sends('receipt', { id, type: 'retry' }), { afterSeq });
  const retry = sentBy(p.provider.connection, afterSeq).find(
    (s) => s.element.tag === 'receipt' && s.element.attrs['id'] === id && s.element.attrs['type'] === 'retry',
  )?.element;
  if (!retry)
    throw new PreconditionError(
      `${noneBefore('no retry receipt', p.provider.connection.closed)}; RECEIPT-AFTER-DECRYPT judges that; the client sent ${describeAll(sentBy(p.provider.connection, afterSeq).map((s) => s.element))}`,
    );
  return { id, t, retry, registrationId: upload.registrationId };
}

/** RETRY-RECEIPT: the retry receipt carries the registration id the client uploaded. */
export const registration = defineCheck({ name: 'messaging/retry/registration' }, async (ctx) => {
  const { retry, registrationId } = await retryFor(ctx);
  return judgeRetryRegistration(retry, registrationId);
});

/** RETRY-RECEIPT, `<registration>`: on a retry receipt as sent, against the registration id the client uploaded. */
export function judgeRetryRegistration(retry: StanzaNode, registrationId: number): Finding {
  const got = retryRegistration(retry);
  const expected = `<registration> holding ${registrationId}, the registration id the client uploaded, in 4 bytes`;
  if (got === null)
    return notMet(
      expected,
      child(retry, 'registration')
        ? 'a <registration> that is not 4 bytes of base64'
        : 'no <registration> in the retry receipt',
    );
  return got === registrationId ? met() : notMet(expected, `registration id ${got}`);
}

/** A message that cannot be decrypted, answered by its retry receipt: an earlier request to the same sender. */
async function retried(ctx: CheckContext, p: Pair): Promise<void> {
  const { id, afterSeq } = deliverUndecryptable(p, ctx);
  ctx.step('wait for its retry receipt');
  await ctx.testbed.frameFrom(p.provider.connection, sends('receipt', { id, type: 'retry' }), { afterSeq });
}

/**
 * RETRY-RECEIPT: `<retry count="1" id t v="1"/>` names the message, its `t`, and counts the first
 * request. With `params.messages` above 1, the sender's earlier messages could not be decrypted
 * either, and the last one's first request still counts 1: the count is the message's, not the sender's.
 */
export const retryElement = defineCheck(
  { name: 'messaging/retry/element', params: paramsOf({ messages: { type: 'integer', minimum: 1 } }) },
  async (ctx) => {
    const { id, t, retry } = await retryFor(ctx, numberParam(ctx, 'messages', 1));
    return judgeRetryElement(retry, id, t, ctx.clock);
  },
);

/**
 * RETRY-RECEIPT, `<retry>`: on the first retry receipt for message `id`, delivered with `t`, as sent.
 * A `t` on the receipt itself is optional, and judged by the clock when there is one (STANZA-TIME).
 */
export function judgeRetryElement(retry: StanzaNode, id: string, t: string, clock?: Clock): Finding {
  const r = child(retry, 'retry');
  const expected = `<retry count="1" id="${id}" t="${t}" v="1"/>, t the message's as delivered`;
  if (!r) return notMet(expected, 'a retry receipt without <retry>');
  const ok = r.attrs['count'] === '1' && r.attrs['id'] === id && r.attrs['v'] === '1' && r.attrs['t'] === t;
  if (!ok) return notMet(expected, show(r));
  return clock && retry.attrs['t'] !== undefined ? judgeTime(retry.attrs['t'], clock, 'the retry receipt') : met();
}

/**
 * A message from the provider user, a retry receipt for it, and the re-sent copy as the gatekeeper
 * user received it. `quoting`: the message is the user's reply to the gatekeeper user's message.
 * `retries`: how many retry receipts ask for it, each once the re-send before it came; the copy is
 * the last re-send.
 */
async function resentOnce(
  ctx: CheckContext,
  quoting = false,
  retries = 1,
  reconnect = false,
): Promise<{ out: Outbound; resent: GatekeeperDelivery | null; quoted?: string }> {
  const p = await pair(ctx);
  await sendOne(p, ctx, 'opening message');
  // A reply confirms the session, so the provider's next message is a plain `msg` and a re-send on it would be too.
  const reply = await receiveOne(p, ctx, 'reply');
  await answerTo(ctx, p.provider.connection, reply.id, reply.afterSeq);
  const quoted = quoting ? reply.id : undefined;
  const out = await sendOne(p, ctx, quoting ? 'reply to the peer' : 'message', quoted);
  const id = out.sent.element.attrs['id'];
  if (!id) throw new PreconditionError('the message had no id, so no retry receipt can name it');
  if (outgoingEnc(out.sent.element)?.attrs['type'] !== 'msg')
    throw new PreconditionError('the message after a reply was not a plain msg; ENC-TYPE judges that');
  if (reconnect) await p.provider.reconnect();
  const copies = new Set([out.delivery]);
  let resent: GatekeeperDelivery | null = null;
  for (let count = 1; count <= retries && (count === 1 || resent); count++) {
    askResend(ctx, p, id, count);
    ctx.step(`wait for re-send ${count}`);
    resent = await p.gatekeeperUser.waitForDelivery((d) => d.id === id && !copies.has(d), {
      signal: ctx.signal,
      timeoutMs: ANSWER_MS,
    });
    if (resent) copies.add(resent);
  }
  return { out, resent, ...(quoted === undefined ? {} : { quoted }) };
}

/** What the re-sent message is (`params.kind`): a text, or a reply, whose quote is content too. */
const RESENT_KINDS = ['text', 'reply'] as const;

/**
 * RETRY-RESEND: the message comes again, with the same id and content, and decrypts. With
 * `params.retries` 2 the recipient asks a second time once the first re-send came, and the second
 * re-send is judged: a client that forgets a message once re-sent would send none. With
 * `params.reconnect`, the provider user connects again between the message and the retry receipt:
 * the messages a client sent are its own, kept past its connection.
 */
export const resend = defineCheck(
  {
    name: 'messaging/retry/resend',
    params: paramsOf({
      kind: { enum: [...RESENT_KINDS] },
      retries: { type: 'integer', minimum: 1, maximum: 2 },
      reconnect: { type: 'boolean' },
    }),
  },
  async (ctx) => {
    const quoting = choiceParam(ctx, 'kind', RESENT_KINDS, 'text') === 'reply';
    const reconnect = ctx.params['reconnect'] === true;
    const { out, resent, quoted } = await resentOnce(ctx, quoting, numberParam(ctx, 'retries', 1), reconnect);
    return judgeResend(resent, out.delivery.id ?? '', out.text, quoted);
  },
);

/**
 * RETRY-RESEND, on the re-sent copy of message `id` (holding `text`, and quoting message `quoted`
 * when it is a reply) as the gatekeeper user received it.
 */
export function judgeResend(resent: GatekeeperDelivery | null, id: string, text: string, quoted?: string): Finding {
  const content = quoted === undefined ? 'the same text' : `the same text and its quote of ${quoted}`;
  const expected = `the message re-sent with id ${id}, holding ${content}, that the gatekeeper user decrypts`;
  if (!resent) return notMet(expected, `no re-sent message with that id within ${ANSWER_MS} ms of the retry receipt`);
  if (!resent.plaintext)
    return notMet(expected, `a re-send the gatekeeper user could not decrypt: ${resent.decryptError ?? ''}`);
  if (readText(resent.plaintext) !== text) return notMet(expected, 'a re-send holding another text');
  if (quoted === undefined) return met();
  const stanzaId = readContent(resent.plaintext)?.extendedTextMessage?.contextInfo?.stanzaId;
  return stanzaId === quoted
    ? met()
    : notMet(expected, stanzaId ? `a re-send quoting ${stanzaId}` : 'a re-send without the quote: a plain text');
}

/** RETRY-RESEND: the first re-send is on a fresh session, a prekey message; whatsmeow re-sends on the old one. */
export const resendPreKey = defineCheck({ name: 'messaging/retry/resend-prekey' }, async (ctx) => {
  const { resent } = await resentOnce(ctx);
  if (!resent)
    throw new PreconditionError(`no re-sent message within ${ANSWER_MS} ms; RETRY-RESEND's own case judges that`);
  return judgeResendPreKey(resent);
});

/**
 * RETRY-RESEND's second clause: a retry receipt from anyone but the recipient is not answered. A
 * second gatekeeper user, who never got the first message, asks for it again; then the recipient
 * asks for the second message again, and that re-send must come, so that a client which never
 * re-sends cannot pass. A client that answers receipts side by side (whatsmeow, one goroutine
 * each) may send a re-send of the first after the marker, a fresh session's key fetch first: the
 * case watches QUIET_MS past the marker for it.
 */
export const resendOtherSenderIgnored = defineCheck({ name: 'messaging/retry/other-sender-ignored' }, async (ctx) => {
  const p = await pair(ctx);
  const first = (await sendOneWithId(p, ctx, 'first message')).id;
  const second = (await sendOneWithId(p, ctx, 'second message')).id;
  const stranger = await ctx.testbed.gatekeeperUser();
  const afterSeq = lastSeq(p.provider.connection);
  askResend(ctx, p, first, 1, stranger.jid);
  askResend(ctx, p, second, 1);
  ctx.step('wait for the re-send of the second message');
  const marker = await ctx.testbed.frameFrom(p.provider.connection, sends('message', { id: second }), { afterSeq });
  if (!marker)
    throw new PreconditionError(
      `${noneBefore("no re-send of the second message for its recipient's retry receipt", p.provider.connection.closed)}; RETRY-RESEND's own case judges that`,
    );
  ctx.step(`watch ${QUIET_MS} ms more for a re-send of the first message`);
  await ctx.testbed.frameFrom(p.provider.connection, sends('message', { id: first }), {
    afterSeq,
    timeoutMs: QUIET_MS,
  });
  const resent = sentBy(p.provider.connection, afterSeq)
    .map((s) => s.element)
    .filter((e) => e.tag === 'message' && e.attrs['id'] === first);
  return judgeRetryFromStranger(resent, first, stranger.jid);
});

/** RETRY-RESEND, on the copies of message `id` the client sent after `stranger`'s retry receipt for it. */
function judgeRetryFromStranger(resent: readonly StanzaNode[], id: string, stranger: string): Finding {
  if (resent.length === 0) return met();
  return notMet(
    `no re-send of message ${id} for a retry receipt from ${stranger}, who is not its recipient`,
    `message ${id} re-sent ${resent.length === 1 ? 'once' : `${resent.length} times`}, to ${resent.map((e) => e.attrs['to'] ?? '(no to)').join(', ')}`,
  );
}

/** RETRY-RESEND, the fresh session: on the first re-sent copy as the gatekeeper user received it. */
export function judgeResendPreKey(resent: GatekeeperDelivery): Finding {
  const type = resent.enc?.attrs['type'];
  return type === 'pkmsg'
    ? met()
    : notMet(
        'the first re-send as <enc type="pkmsg">, on a session built from a fresh bundle',
        `a re-send with type="${type ?? ''}"`,
      );
}

/**
 * RETRY-RESEND: a `count` on the re-sent copy's `<enc>` says which re-send it is; WhatsApp's clients
 * put none. With `params.retries` 2 the recipient asks again once the first re-send came, and the
 * second re-send's count is judged: a client that writes 1 on every re-send passes the first.
 */
export const resendCount = defineCheck(
  {
    name: 'messaging/retry/resend-count',
    params: paramsOf({ retries: { type: 'integer', minimum: 1, maximum: 2 } }),
  },
  async (ctx) => {
    const retries = numberParam(ctx, 'retries', 1);
    const { resent } = await resentOnce(ctx, false, retries);
    if (!resent) throw new PreconditionError(`no re-sent message within ${ANSWER_MS} ms; RETRY-RESEND judges that`);
    return judgeResendCount(resent, retries);
  },
);

/** RETRY-RESEND, `count`: on the `k`-th re-sent copy as the gatekeeper user received it. */
export function judgeResendCount(resent: GatekeeperDelivery, k = 1): Finding {
  const count = resent.enc?.attrs['count'];
  if (count === undefined) return notApplicable('no count on <enc>, which the profile allows');
  const nth = k === 1 ? 'first' : k === 2 ? 'second' : `${k}th`;
  return count === String(k)
    ? met()
    : notMet(`<enc count="${k}"> on the ${nth} re-send, or no count`, `count="${count}"`);
}

/** RETRY-MAX: more retry receipts than the profile allows get no more re-sends than it allows. */
export const resendBounded = defineCheck({ name: 'messaging/retry/bounded' }, async (ctx) => {
  const p = await pair(ctx);
  const first = (await sendOne(p, ctx, 'first message')).sent.element.attrs['id'];
  const second = (await sendOne(p, ctx, 'second message')).sent.element.attrs['id'];
  if (!first || !second) throw new PreconditionError('a message had no id, so no retry receipt can name it');
  const afterSeq = lastSeq(p.provider.connection);
  for (let count = 1; count <= MAX_RESENDS + 1; count++) askResend(ctx, p, first, count);
  // Re-sends to one peer leave in order: the second message's re-send comes after every re-send of the first.
  askResend(ctx, p, second, 1);
  ctx.step('wait for the re-send of the second message');
  const marker = await ctx.testbed.frameFrom(p.provider.connection, sends('message', { id: second }), { afterSeq });
  if (!marker)
    throw new PreconditionError(
      `${noneBefore('no re-send of the second message', p.provider.connection.closed)}; RETRY-RESEND judges that`,
    );
  const resends = sentBy(p.provider.connection, afterSeq).filter(
    (s) => s.element.tag === 'message' && s.element.attrs['id'] === first,
  ).length;
  const expected = `at most ${MAX_RESENDS} re-sends of a message for ${MAX_RESENDS + 1} retry receipts`;
  return resends <= MAX_RESENDS ? met(`${resends} re-sends`) : notMet(expected, `${resends} re-sends`);
});
