/** RFC 7395 framing as the gatekeeper observed it (docs/PROFILE.md §1). */
import { met, notMet } from '../../core/model.js';
import { FRAMING_NS, GATEKEEPER_SERVER, INTEROP_VERSION, XMPP_SUBPROTOCOL } from '../../protocol/constants.js';
import { defineCheck, ANSWER_MS } from '../check.js';
import { elementsOf, sentBy, show } from '../observe.js';
import { pair, receiveOne, sendOne } from '../scenarios/conversation.js';
import { framesBothWays, judgeTextFrames } from '../scenarios/text-frames.js';

/** FRAME-SUBPROTOCOL */
export const subprotocol = defineCheck({ name: 'stanza/frame/subprotocol' }, async (ctx) => {
  const { connection } = await ctx.testbed.providerUser();
  const offered = connection.offeredSubprotocols;
  return offered.includes(XMPP_SUBPROTOCOL)
    ? met(`offered ${offered.join(', ')}`)
    : notMet(
        `the WebSocket subprotocol "${XMPP_SUBPROTOCOL}" offered (RFC 7395 §3.1)`,
        offered.length ? `offered ${offered.join(', ')}` : 'no subprotocol offered',
      );
});

/** FRAME-OPEN */
export const open = defineCheck({ name: 'stanza/frame/open' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  const first = user.connection.frames.find((f) => f.direction === 'client-to-gatekeeper');
  const element = first ? elementsOf(first)[0] : undefined;
  const expected = `a first element <open xmlns="${FRAMING_NS}" to="${GATEKEEPER_SERVER}" from="${user.login}" version="1.0" token="…">`;
  if (!element) return notMet(expected, first ? `an unreadable first frame: ${first.text.slice(0, 80)}` : 'no frame');
  const wrong: string[] = [];
  if (element.tag !== 'open') wrong.push(`element <${element.tag}>`);
  if (element.attrs['xmlns'] !== FRAMING_NS) wrong.push(`xmlns="${element.attrs['xmlns'] ?? ''}"`);
  if (element.attrs['to'] !== GATEKEEPER_SERVER) wrong.push(`to="${element.attrs['to'] ?? ''}"`);
  if (element.attrs['from'] !== user.login) wrong.push(`from="${element.attrs['from'] ?? ''}"`);
  if (element.attrs['version'] !== '1.0') wrong.push(`version="${element.attrs['version'] ?? ''}"`);
  if (!element.attrs['token']) wrong.push('no token');
  return wrong.length === 0 ? met() : notMet(expected, `${show(element)}: ${wrong.join(', ')}`);
});

/** CONNECT-VERSION */
export const interopVersion = defineCheck({ name: 'stanza/frame/interop-version' }, async (ctx) => {
  const { connection } = await ctx.testbed.providerUser();
  const open = sentBy(connection).find((s) => s.element.tag === 'open')?.element;
  const version = open?.attrs['interop-version'];
  return version === INTEROP_VERSION
    ? met()
    : notMet(
        `interop-version="${INTEROP_VERSION}" on <open/>`,
        version === undefined ? 'no interop-version attribute' : `interop-version="${version}"`,
      );
});

/** FRAME-TEXT: over a send and a receive, every frame the client sends is text. */
export const textFrames = defineCheck({ name: 'stanza/frame/text' }, async (ctx) =>
  judgeTextFrames(await framesBothWays(ctx), 'the client'),
);

/** FRAME-ONE-ELEMENT: the ack and receipt of a delivered message, the send of one, each in its own frame. */
export const oneElement = defineCheck({ name: 'stanza/frame/one-element' }, async (ctx) => {
  const p = await pair(ctx);
  await sendOne(p, ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  ctx.step('wait for the answers to the delivered message');
  const answered = (): boolean =>
    sentBy(p.provider.connection, afterSeq).filter((s) => s.element.attrs['id'] === id).length >= 2;
  await ctx.testbed.frameFrom(p.provider.connection, () => answered(), { afterSeq });
  for (const f of p.provider.connection.frames) {
    if (f.direction !== 'client-to-gatekeeper') continue;
    const count = elementsOf(f).length;
    if (count !== 1) {
      const what =
        count === 0
          ? `a message with no readable element: ${f.text.slice(0, 80)}`
          : `a message with ${count} elements: ${elementsOf(f)
              .map((n) => `<${n.tag}>`)
              .join(', ')}`;
      return notMet('exactly one element per WebSocket message (RFC 7395 §3.3.1)', what);
    }
  }
  return met();
});

/** FRAME-CLOSE */
export const close = defineCheck({ name: 'stanza/frame/close' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  ctx.step('disconnect the provider user');
  await user.disconnect();
  const closed = await user.connection.waitForClose({ signal: ctx.signal, timeoutMs: ANSWER_MS });
  const closeSent = sentBy(user.connection).some(
    (s) => s.element.tag === 'close' && s.element.attrs['xmlns'] === FRAMING_NS,
  );
  if (!closed)
    return notMet('the WebSocket closed after the driver disconnected the user', `still open after ${ANSWER_MS} ms`);
  return closeSent
    ? met()
    : notMet(
        `<close xmlns="${FRAMING_NS}"/> before the WebSocket closed`,
        `the WebSocket closed (code ${closed.code}) with no <close/> element`,
      );
});
