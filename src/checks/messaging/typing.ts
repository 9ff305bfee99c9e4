/** Typing indicators, both ways (docs/PROFILE.md §14.4). */
import { met, notMet, type Finding } from '../../core/model.js';
import type { StanzaNode } from '../../protocol/node.js';
import { CHATSTATE_TAG, chatState, readChatState } from '../../protocol/messaging.js';
import { defineCheck } from '../check.js';
import { barrier, describeAll, lastSeq, sentBy } from '../observe.js';
import { pair } from '../scenarios/conversation.js';

/** TYPING-OUT: the user types; the client sends `<chatstate to><composing/></chatstate>`. */
export const typingOut = defineCheck({ name: 'messaging/typing/out' }, async (ctx) => {
  const p = await pair(ctx);
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step('the user types');
  await p.provider.typing(p.gatekeeperUser.jid);
  await barrier(p.provider.connection, ctx.signal);
  return judgeTypingOut(
    sentBy(p.provider.connection, afterSeq).map((s) => s.element),
    p.gatekeeperUser.jid,
  );
});

/** TYPING-OUT, on what the client sent after its user started typing to `peer`. */
export function judgeTypingOut(sent: readonly StanzaNode[], peer: string): Finding {
  const expected = `<chatstate to="${peer}"><composing/></chatstate>`;
  const state = sent.find((n) => n.tag === CHATSTATE_TAG);
  if (!state) return notMet(expected, `no <chatstate>; the client sent ${describeAll(sent)}`);
  if (state.attrs['to'] !== peer) return notMet(expected, `a <chatstate> to="${state.attrs['to'] ?? ''}"`);
  return readChatState(state) === 'composing'
    ? met()
    : notMet(expected, `a <chatstate> holding <${state.children[0]?.tag ?? 'nothing'}>`);
}

/**
 * TYPING-IN: a peer's `<chatstate>` is shown, and never answered. The peer first pauses, which shows
 * no one typing, then types, which must show; so a client that shows every `<chatstate>` as typing,
 * or none, fails.
 */
export const typingIn = defineCheck({ name: 'messaging/typing/in' }, async (ctx) => {
  const p = await pair(ctx);
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step('the gatekeeper user pauses');
  ctx.testbed.gatekeeper.deliver(p.provider.login, chatState({ from: p.gatekeeperUser.jid }, 'paused'));
  await barrier(p.provider.connection, ctx.signal);
  const paused = (await p.provider.indicators()).typing;
  ctx.step('the gatekeeper user types');
  ctx.testbed.gatekeeper.deliver(p.provider.login, chatState({ from: p.gatekeeperUser.jid }));
  await barrier(p.provider.connection, ctx.signal);
  const sent = sentBy(p.provider.connection, afterSeq).map((s) => s.element);
  if (sent.some((n) => n.tag === 'ack')) return judgeTypingIn(sent, [], p.gatekeeperUser.jid);
  return judgeTypingIn(sent, (await p.provider.indicators()).typing, p.gatekeeperUser.jid, paused);
});

/**
 * TYPING-IN, on what the client sent after `peer`'s `<chatstate>`s reached it, who its user sees
 * typing after `<composing/>`, and who after `<paused/>` alone (`paused`).
 */
export function judgeTypingIn(
  sent: readonly StanzaNode[],
  typing: readonly string[],
  peer: string,
  paused: readonly string[] = [],
): Finding {
  const expected = `${peer} shown typing on <composing/> only, and no answer to the <chatstate>`;
  const answers = sent.filter((n) => n.tag === 'ack');
  if (answers.length > 0) return notMet(expected, `an answer to it: ${describeAll(answers)}`);
  if (paused.includes(peer)) return notMet(expected, 'shown typing on <paused/>');
  return typing.includes(peer) ? met() : notMet(expected, 'not shown: the user sees no one typing');
}
