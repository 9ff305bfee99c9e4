/** Reactions and replies, both ways, in the public `Message` shapes (docs/PROFILE.md §14.3). */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import { reactionContent, replyContent } from '../../protocol/messaging.js';
import {
  decodeMessage,
  encodeMessage,
  pad,
  paddingLength,
  unpad,
  type DecodedMessage,
  type MessageContent,
} from '../../protocol/payload.js';
import type { ReceivedMessage } from '../../protocol/driver-api.js';
import { defineCheck, ANSWER_MS, type CheckContext } from '../check.js';
import { answerTo } from '../scenarios/exchange.js';
import { barrier, lastSeq } from '../observe.js';
import { pair, receiveOne, sendOne, type Pair } from '../scenarios/conversation.js';

const EMOJI = '👍';

/** The `Message` in a padded plaintext, or undefined when it is not one. */
export function readContent(padded: Uint8Array | undefined): DecodedMessage | undefined {
  const r = padded && unpad(padded);
  try {
    return r?.ok ? decodeMessage(r.bytes) : undefined;
  } catch {
    return undefined;
  }
}

/** A message from the gatekeeper user that the provider's client has answered, then what the provider user sends about it. */
async function aboutReceived(
  ctx: CheckContext,
  act: (p: Pair, id: string) => Promise<unknown>,
): Promise<{ id: string; content: DecodedMessage | undefined }> {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  await answerTo(ctx, p.provider.connection, id, afterSeq);
  const earlier = new Set(p.gatekeeperUser.deliveries);
  await act(p, id);
  ctx.step('gatekeeper user receives it');
  const delivery = await p.gatekeeperUser.waitForDelivery((d) => !earlier.has(d), {
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  if (!delivery)
    throw new PreconditionError(
      `the driver accepted the action, but no message reached the gatekeeper user within ${ANSWER_MS} ms`,
    );
  return { id, content: readContent(delivery.plaintext) };
}

/** REACTION-OUT */
export const reactionOut = defineCheck({ name: 'messaging/reaction/out' }, async (ctx) => {
  const { id, content } = await aboutReceived(ctx, (p, id) => {
    ctx.step('the user reacts');
    return p.provider.react(p.gatekeeperUser.jid, id, EMOJI);
  });
  return judgeReactionOut(content, id, EMOJI);
});

/** REACTION-OUT, on the `Message` the client sent when its user reacted with `emoji` to message `id`. */
export function judgeReactionOut(content: DecodedMessage | undefined, id: string, emoji: string): Finding {
  const reaction = content?.reactionMessage;
  const expected = `a reactionMessage with key.id "${id}" and text "${emoji}"`;
  if (!reaction) return notMet(expected, 'no reactionMessage in the payload');
  if (reaction.key?.id !== id)
    return notMet(expected, `a reaction to another message (key.id "${reaction.key?.id ?? ''}")`);
  return reaction.text === emoji ? met() : notMet(expected, `text "${reaction.text ?? ''}"`);
}

/** REPLY-OUT */
export const replyOut = defineCheck({ name: 'messaging/reply/out' }, async (ctx) => {
  const text = `reply ${ctx.rng.string(8)}`;
  const { id, content } = await aboutReceived(ctx, (p, id) => {
    ctx.step('the user replies');
    return p.provider.send(p.gatekeeperUser.jid, text, { replyTo: id });
  });
  return judgeReplyOut(content, id, text);
});

/** REPLY-OUT, on the `Message` the client sent when its user replied `text` to message `id`. */
export function judgeReplyOut(content: DecodedMessage | undefined, id: string, text: string): Finding {
  const reply = content?.extendedTextMessage;
  const expected = `an extendedTextMessage with text "${text}" and contextInfo.stanzaId "${id}"`;
  const quoted = reply?.contextInfo?.stanzaId;
  if (!quoted) return notMet(expected, 'no contextInfo.stanzaId in the payload');
  if (quoted !== id) return notMet(expected, `contextInfo.stanzaId "${quoted}"`);
  return reply?.text === text ? met() : notMet(expected, `text "${reply?.text ?? ''}"`);
}

/** A message from the provider user; the gatekeeper user sends `content` about it; the client has answered. */
async function answeredAbout(
  ctx: CheckContext,
  content: (p: Pair, id: string) => MessageContent,
): Promise<{ id: string; inbox: readonly ReceivedMessage[] }> {
  const p = await pair(ctx);
  const out = await sendOne(p, ctx);
  const id = out.sent.element.attrs['id'];
  if (!id) throw new PreconditionError('the message had no id, so nothing can name it');
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step('gatekeeper user sends about the message');
  const about = await p.gatekeeperUser.sendPayload(
    p.provider.login,
    pad(encodeMessage(content(p, id)), paddingLength(ctx.rng)),
  );
  await answerTo(ctx, p.provider.connection, about, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  return { id, inbox: await p.provider.inbox() };
}

/** REACTION-IN */
export const reactionIn = defineCheck({ name: 'messaging/reaction/in' }, async (ctx) => {
  const { id, inbox } = await answeredAbout(ctx, (p, id) => reactionContent(p.provider.login, id, false, EMOJI));
  const expected = `the reaction "${EMOJI}" shown on message ${id}`;
  const shown = inbox.find((m) => m.reaction?.id === id);
  if (!shown) return notMet(expected, 'no reaction shown on it');
  return shown.reaction?.emoji === EMOJI ? met() : notMet(expected, `the reaction "${shown.reaction?.emoji ?? ''}"`);
});

/** REPLY-IN */
export const replyIn = defineCheck({ name: 'messaging/reply/in' }, async (ctx) => {
  const text = `reply ${ctx.rng.string(8)}`;
  const { id, inbox } = await answeredAbout(ctx, (p, id) => replyContent(text, id, p.provider.login));
  const expected = `the reply "${text}" shown quoting message ${id}`;
  const shown = inbox.find((m) => m.text === text);
  if (!shown) return notMet(expected, 'the reply was not shown at all');
  if (shown.replyTo === undefined) return notMet(expected, 'the reply shown with no replyTo');
  return shown.replyTo === id ? met() : notMet(expected, `the reply shown quoting ${shown.replyTo}`);
});
