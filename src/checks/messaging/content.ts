/** Reactions and replies, both ways, in the public `Message` shapes (docs/PROFILE.md §14.3). */
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { Clock } from '../../core/clock.js';
import { reactionContent, replyContent } from '../../protocol/messaging.js';
import { difference } from '../text-difference.js';
import { judgeClockField } from '../time.js';
import {
  encodeMessage,
  messageOf,
  pad,
  paddingLength,
  type DecodedMessage,
  type MessageContent,
} from '../../protocol/payload.js';
import type { ReceivedMessage, Sent } from '../../protocol/driver-api.js';
import { defineCheck, ANSWER_MS, choiceParam, paramsOf, type CheckContext } from '../check.js';
import { answerTo } from '../scenarios/exchange.js';
import { barrier, lastSeq } from '../observe.js';
import { pair, receiveOne, sendOne, sendOneWithId, type Pair } from '../scenarios/conversation.js';

const EMOJI = '👍';

/** The code points of `emoji`, which a verdict names so that a cut one reads as such. */
const codePoints = (emoji: string): string =>
  [...emoji].map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase()}`).join(' ');

/** The `Message` in a padded plaintext, or undefined when it is not one. */
export function readContent(padded: Uint8Array | undefined): DecodedMessage | undefined {
  const r = padded && messageOf(padded);
  return r?.ok ? r.message : undefined;
}

/** A message from the gatekeeper user, which the provider's client has answered. */
async function received(ctx: CheckContext): Promise<{ p: Pair; id: string }> {
  const p = await pair(ctx);
  const { id, afterSeq } = await receiveOne(p, ctx);
  await answerTo(ctx, p.provider.connection, id, afterSeq);
  return { p, id };
}

/** The `Message` the provider user sends next, as the gatekeeper user reads it, once the user did `act` (named `label`). */
async function nextSent(
  ctx: CheckContext,
  p: Pair,
  label: string,
  act: () => Promise<Sent>,
): Promise<DecodedMessage | undefined> {
  const earlier = new Set(p.gatekeeperUser.deliveries);
  ctx.step(label);
  const { id } = await act();
  ctx.step('gatekeeper user receives it');
  const delivery = await p.gatekeeperUser.waitForDelivery((d) => !earlier.has(d), {
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  if (!delivery)
    throw new PreconditionError(
      `the driver accepted the action, but no message reached the gatekeeper user within ${ANSWER_MS} ms`,
    );
  // The driver API: a send is answered with the stanza id of the message the client sent, which
  // the user's later actions (a read, a reaction, a reply) name.
  if (delivery.id !== id)
    throw new ProviderViolation(
      `the driver's answer naming the message the client sent, id ${delivery.id ?? '(none)'}`,
      `the driver answered with id ${id}`,
    );
  return readContent(delivery.plaintext);
}

/** The message a reaction or a reply is about, as its key must name it (REACTION-OUT, REPLY-OUT). */
export interface Target {
  /** Its stanza id. */
  readonly id: string;
  /** The chat's peer, from the user's side. */
  readonly chat: string;
  /** Who sent it: the user itself, or the peer. */
  readonly sender: string;
  /** True when the user sent it. */
  readonly fromMe: boolean;
}

/** Whose message the user reacts to (REACTION-OUT's key): the peer's, or its own. */
const REACTS_TO = ['peer', 'own'] as const;

/**
 * The emoji the user reacts with (`params.emoji`): one code point, or a heart with its emoji
 * presentation selector (U+FE0F), which goes out with it (REACTION-OUT's `text`).
 */
const SENT_EMOJI = { single: EMOJI, 'presentation-selector': '\u2764\uFE0F' } as const;
const SENT_EMOJI_KINDS = Object.keys(SENT_EMOJI) as (keyof typeof SENT_EMOJI)[];

/**
 * REACTION-OUT: the user reacts to a message, and the key names that message: its id, the chat,
 * and who sent it. `params.to` says whose: the message it received (`peer`, the default, fromMe
 * false) or one it sent itself (`own`, fromMe true), which a key that never sets fromMe names wrongly.
 * `params.emoji` says with what: the emoji goes out as chosen, a presentation selector included.
 */
export const reactionOut = defineCheck(
  {
    name: 'messaging/reaction/out',
    params: paramsOf({ to: { enum: [...REACTS_TO] }, emoji: { enum: SENT_EMOJI_KINDS } }),
  },
  async (ctx) => {
    const to = choiceParam(ctx, 'to', REACTS_TO, 'peer');
    const emoji = SENT_EMOJI[choiceParam(ctx, 'emoji', SENT_EMOJI_KINDS, 'single')];
    const { p, target } = to === 'peer' ? await peerTarget(ctx) : await ownTarget(ctx);
    const content = await nextSent(
      ctx,
      p,
      `the user reacts to ${to === 'peer' ? "the peer's" : 'its own'} message`,
      () => p.provider.react(target.chat, target.id, emoji),
    );
    return judgeReactionOut(content, target, emoji, ctx.clock);
  },
);

/** A message the gatekeeper user sent, which the provider's client has answered, as a key must name it. */
async function peerTarget(ctx: CheckContext): Promise<{ p: Pair; target: Target }> {
  const { p, id } = await received(ctx);
  const peer = p.gatekeeperUser.jid;
  return { p, target: { id, chat: peer, sender: peer, fromMe: false } };
}

/** A message the provider user sent, as a key must name it. */
async function ownTarget(ctx: CheckContext): Promise<{ p: Pair; target: Target }> {
  const p = await pair(ctx);
  const { id } = await sendOneWithId(p, ctx, 'its own message');
  return { p, target: { id, chat: p.gatekeeperUser.jid, sender: p.provider.login, fromMe: true } };
}

/**
 * REACTION-OUT, on the `Message` the client sent when its user reacted with `emoji` to the message
 * `to`, with its `senderTimestampMs` judged by `clock`.
 */
export function judgeReactionOut(
  content: DecodedMessage | undefined,
  to: Target,
  emoji: string,
  clock: Clock,
): Finding {
  const reaction = content?.reactionMessage;
  const expected = `a reactionMessage with key { remoteJid "${to.chat}", fromMe ${to.fromMe}, id "${to.id}" } and text "${emoji}" (${codePoints(emoji)})`;
  if (!reaction) return notMet(expected, 'no reactionMessage in the payload');
  const key = reaction.key;
  if (key?.id !== to.id) return notMet(expected, `a reaction to another message (key.id "${key?.id ?? ''}")`);
  if (key.remoteJid !== to.chat)
    return notMet(expected, `a reaction in another chat (key.remoteJid "${key.remoteJid ?? ''}")`);
  // proto2 leaves a false bool out: absent is false, as the lineage reads it.
  const fromMe = key.fromMe === true;
  if (fromMe !== to.fromMe)
    return notMet(
      expected,
      `a key with fromMe=${fromMe}, for a message ${to.fromMe ? 'the user sent itself' : `that ${to.sender} sent`}`,
    );
  if (reaction.text !== emoji)
    return notMet(expected, `text "${reaction.text ?? ''}" (${codePoints(reaction.text ?? '')})`);
  return judgeSenderTimestampMs(reaction.senderTimestampMs, clock);
}

/**
 * REACTION-OUT, `senderTimestampMs`: the reaction's time in Unix milliseconds, within the skew
 * STANZA-TIME allows a `t`. A count of seconds reads as a day in 1970, and fails as such.
 */
function judgeSenderTimestampMs(value: number | { toString(): string } | null | undefined, clock: Clock): Finding {
  // An int64 that protobufjs reads as a Long, which prints as its decimal value; absent, it reads as 0.
  const ms = String(value ?? 0);
  return judgeClockField('senderTimestampMs', ms === '0' ? undefined : ms, clock, 'the reaction', 'milliseconds');
}

/**
 * A reply's text (`params.text`): plain, with whitespace at either end, or long (10,000 characters,
 * past the 4096 a composer's field might hold, within ENC-CONTENT's 64 KiB): ENC-CONTENT keeps each
 * whole in a reply as in any text.
 */
const REPLY_TEXTS = ['plain', 'edges', 'long'] as const;

/** The characters of a `long` reply's text. */
const LONG_REPLY = 10_000;

/**
 * REPLY-OUT: the user replies to the message it received, then to a message it sent itself; each
 * reply's context names the message quoted and who sent it, and its text is the one typed (with
 * `params.text` "edges", whitespace at its ends included; "long", every character: ENC-CONTENT).
 */
export const replyOut = defineCheck(
  { name: 'messaging/reply/out', params: paramsOf({ text: { enum: [...REPLY_TEXTS] } }) },
  async (ctx) => {
    const kind = choiceParam(ctx, 'text', REPLY_TEXTS, 'plain');
    const replyText = (): string => {
      if (kind === 'edges') return `\t reply ${ctx.rng.string(8)} \n`;
      const plain = `reply ${ctx.rng.string(8)}`;
      return kind === 'long' ? `${plain} ${'0123456789abcdef'.repeat(LONG_REPLY / 16)}`.slice(0, LONG_REPLY) : plain;
    };
    const { p, id } = await received(ctx);
    const peer = p.gatekeeperUser.jid;
    const toTheirs = replyText();
    const theirs = await nextSent(ctx, p, "the user replies to the peer's message", () =>
      p.provider.send(peer, toTheirs, { replyTo: id }),
    );
    const first = judgeReplyOut(theirs, { id, chat: peer, sender: peer, fromMe: false }, toTheirs);
    if (first.verdict !== 'met') return first;
    const own = await sendOneWithId(p, ctx, 'its own message');
    const toMine = replyText();
    const mine = await nextSent(ctx, p, 'the user replies to its own message', () =>
      p.provider.send(peer, toMine, { replyTo: own.id }),
    );
    const second = judgeReplyOut(mine, { id: own.id, chat: peer, sender: p.provider.login, fromMe: true }, toMine);
    return second.verdict === 'met' ? met("replies to the peer's message and to the user's own") : second;
  },
);

/** REPLY-OUT, on the `Message` the client sent when its user replied `text` to the message `to`. */
export function judgeReplyOut(content: DecodedMessage | undefined, to: Target, text: string): Finding {
  const reply = content?.extendedTextMessage;
  const typed = text.length > 64 ? `the ${text.length}-character text typed` : `text "${text}"`;
  const expected = `an extendedTextMessage with ${typed} and contextInfo { stanzaId "${to.id}", participant "${to.sender}" }, for a reply to ${to.fromMe ? "the user's own message" : "the peer's message"}`;
  const context = reply?.contextInfo;
  const quoted = context?.stanzaId;
  if (!quoted) return notMet(expected, 'no contextInfo.stanzaId in the payload');
  if (quoted !== to.id) return notMet(expected, `contextInfo.stanzaId "${quoted}"`);
  if (context.participant !== to.sender)
    return notMet(expected, `contextInfo.participant "${context.participant ?? ''}"`);
  return reply?.text === text ? met() : notMet(expected, `text ${difference(text, reply?.text ?? '')}`);
}

/** A message from the provider user; the gatekeeper user sends `content` about it; the client has answered. */
async function answeredAbout(
  ctx: CheckContext,
  content: (p: Pair, id: string) => MessageContent,
): Promise<{ p: Pair; id: string; inbox: readonly ReceivedMessage[] }> {
  const p = await pair(ctx);
  const out = await sendOne(p, ctx);
  const id = out.sent.element.attrs['id'];
  if (!id) throw new PreconditionError('the message had no id, so nothing can name it');
  const { inbox } = await sendAbout(ctx, p, content(p, id));
  return { p, id, inbox };
}

/** The gatekeeper user sends `content` about a message; once the client answered, its stanza id and the inbox. */
async function sendAbout(
  ctx: CheckContext,
  p: Pair,
  content: MessageContent,
): Promise<{ about: string; inbox: readonly ReceivedMessage[] }> {
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step('gatekeeper user sends about the message');
  const about = await p.gatekeeperUser.sendPayload(
    p.provider.login,
    pad(encodeMessage(content), paddingLength(ctx.rng)),
  );
  await answerTo(ctx, p.provider.connection, about, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  return { about, inbox: await p.provider.inbox() };
}

/** The reaction the inbox shows on message `id` now: the latest entry that reacts to it. */
export const reactionOn = (inbox: readonly ReceivedMessage[], id: string): ReceivedMessage | undefined =>
  inbox.findLast((m) => m.reaction?.id === id);

/** Whose message a received reaction is on (REACTION-IN): the provider user's own, or the peer's. */
const REACTS_ON = ['own', 'peer'] as const;

/**
 * The emoji a received reaction carries (`params.emoji`): one code point, or one emoji of several,
 * which is shown whole: a skin tone joined to a person by a ZWJ, a flag of two regional letters,
 * and a heart with its presentation selector (U+FE0F), WhatsApp's own ❤️ reaction.
 */
const REACTION_EMOJI = {
  single: EMOJI,
  'skin-tone-zwj': '👩🏽\u200d💻',
  flag: '🇪🇺',
  'presentation-selector': '\u2764\uFE0F',
} as const;
const EMOJI_KINDS = Object.keys(REACTION_EMOJI) as (keyof typeof REACTION_EMOJI)[];

/**
 * REACTION-IN: the gatekeeper user reacts to a message, and the client shows the reaction on it.
 * `params.on` says whose: the provider user's (the default, key.fromMe false) or the gatekeeper
 * user's own earlier message (key.fromMe true, as the reactor sent it). `params.emoji` says with
 * what: an emoji of several code points is shown whole, not cut to its first.
 */
export const reactionIn = defineCheck(
  {
    name: 'messaging/reaction/in',
    params: paramsOf({ on: { enum: [...REACTS_ON] }, emoji: { enum: EMOJI_KINDS } }),
  },
  async (ctx) => {
    const on = choiceParam(ctx, 'on', REACTS_ON, 'own');
    const emoji = REACTION_EMOJI[choiceParam(ctx, 'emoji', EMOJI_KINDS, 'single')];
    const { p, id, inbox } =
      on === 'own'
        ? await answeredAbout(ctx, (p, id) => reactionContent(p.provider.login, id, false, emoji))
        : await reactedToOwn(ctx, emoji);
    const whose = on === 'own' ? "the user's own message" : "the peer's own message";
    const peer = p.gatekeeperUser.jid;
    const expected = `the reaction "${emoji}" (${codePoints(emoji)}) of ${peer} shown on message ${id}, ${whose}`;
    const shown = reactionOn(inbox, id);
    if (!shown) return notMet(expected, 'no reaction shown on it');
    const got = shown.reaction?.emoji ?? '';
    if (got !== emoji) return notMet(expected, `the reaction "${got}" (${codePoints(got)})`);
    // The key's remoteJid names the chat from the reactor's side, the user itself: not the reactor.
    return shown.from === peer ? met() : notMet(expected, `the reaction shown as sent by ${shown.from}`);
  },
);

/** The gatekeeper user sends a message, then reacts to it (key.fromMe true); the client has answered both. */
async function reactedToOwn(
  ctx: CheckContext,
  emoji: string,
): Promise<{ p: Pair; id: string; inbox: readonly ReceivedMessage[] }> {
  const { p, id } = await received(ctx);
  const { inbox } = await sendAbout(ctx, p, reactionContent(p.provider.login, id, true, emoji));
  // A reaction can only be shown on a message that was shown: one the client could not open is the
  // encryption cases' to judge.
  if (!inbox.some((m) => m.id === id))
    throw new PreconditionError(`the message ${id} itself was not shown, so no reaction can be seen on it`);
  return { p, id, inbox };
}

/**
 * REACTION-IN, the removal: the gatekeeper user reacts, then takes the reaction back with an empty
 * `text`; the message shows no reaction any more, and the removal is no message of its own.
 */
export const reactionRemovedIn = defineCheck({ name: 'messaging/reaction/removed-in' }, async (ctx) => {
  const { p, id, inbox } = await answeredAbout(ctx, (p, id) => reactionContent(p.provider.login, id, false, EMOJI));
  if (reactionOn(inbox, id)?.reaction?.emoji !== EMOJI)
    throw new PreconditionError(`the reaction "${EMOJI}" was not shown on message ${id}; REACTION-IN judges that`);
  const removal = await sendAbout(ctx, p, reactionContent(p.provider.login, id, false, ''));
  return judgeReactionRemoved(removal.inbox, id, removal.about);
});

/** REACTION-IN, the removal: on the inbox after the removal (stanza `about`) of the reaction on message `id`. */
function judgeReactionRemoved(inbox: readonly ReceivedMessage[], id: string, about: string): Finding {
  const expected = `no reaction shown on message ${id} once its sender removed it, and the removal ${about} no message of its own`;
  const own = inbox.find((m) => m.id === about && m.reaction?.id !== id);
  if (own) return notMet(expected, `the removal shown as a message of its own: ${JSON.stringify(own)}`);
  const left = reactionOn(inbox, id)?.reaction?.emoji;
  return left ? notMet(expected, `the reaction "${left}" still shown on it`) : met();
}

/** Whose message a received reply quotes (REPLY-IN's clauses): the provider user's own, or the peer's. */
const QUOTES = ['own', 'peer'] as const;

/**
 * REPLY-IN: the gatekeeper user replies to a message, and the client shows the reply quoting it.
 * `params.quotes` says whose: the provider user's own (`contextInfo.participant` its login, the
 * default) or the gatekeeper user's own earlier message (`participant` the gatekeeper user).
 */
export const replyIn = defineCheck(
  { name: 'messaging/reply/in', params: paramsOf({ quotes: { enum: [...QUOTES] } }) },
  async (ctx) => {
    const quotes = choiceParam(ctx, 'quotes', QUOTES, 'own');
    const text = `reply ${ctx.rng.string(8)}`;
    const { p, id, inbox } =
      quotes === 'own'
        ? await answeredAbout(ctx, (p, id) => replyContent(text, id, p.provider.login))
        : await repliedToOwn(ctx, text);
    const whose = quotes === 'own' ? "the user's own message" : "the peer's own message";
    return judgeReplyIn(inbox, text, id, whose, p.gatekeeperUser.jid);
  },
);

/** The gatekeeper user sends a message, then a reply `text` quoting it (`participant` itself); the client has answered both. */
async function repliedToOwn(
  ctx: CheckContext,
  text: string,
): Promise<{ p: Pair; id: string; inbox: readonly ReceivedMessage[] }> {
  const { p, id } = await received(ctx);
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step('gatekeeper user replies to its own message');
  const reply = await p.gatekeeperUser.sendPayload(
    p.provider.login,
    pad(encodeMessage(replyContent(text, id, p.gatekeeperUser.jid)), paddingLength(ctx.rng)),
  );
  await answerTo(ctx, p.provider.connection, reply, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  const inbox = await p.provider.inbox();
  // A reply can only be shown quoting a message that was shown: a message the client could not
  // open (a prekey message it cannot decrypt, say) is the encryption cases' to judge.
  if (!inbox.some((m) => m.id === id))
    throw new PreconditionError(`the quoted message ${id} itself was not shown, so no reply can be seen quoting it`);
  return { p, id, inbox };
}

/**
 * REPLY-IN, on the inbox after a reply `text` from `peer` quoting message `id` (`whose`, for the
 * verdict): shown from the peer who sent it, whoever sent the message it quotes.
 */
export function judgeReplyIn(
  inbox: readonly ReceivedMessage[],
  text: string,
  id: string,
  whose: string,
  peer: string,
): Finding {
  const expected = `the reply "${text}" shown from ${peer}, quoting message ${id}, ${whose}`;
  const shown = inbox.find((m) => m.text === text);
  if (!shown) return notMet(expected, 'the reply was not shown at all');
  if (shown.from !== peer) return notMet(expected, `the reply shown as sent by ${shown.from}`);
  if (shown.replyTo === undefined) return notMet(expected, 'the reply shown with no replyTo');
  return shown.replyTo === id ? met() : notMet(expected, `the reply shown quoting ${shown.replyTo}`);
}
